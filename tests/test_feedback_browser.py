"""The feedback page as a student sees it, offline: headless Chromium with the network cut off.

One sample submission is autograded and fed back; the page must render its
maths without MathJax, list each test under what it checks, keep tables and
long lines readable, and show the failing check's reason. A screenshot is
saved under test-artifacts/.
"""

from __future__ import annotations

import ast
import json
import shutil

import pytest

from autograder import tools
from autograder.reference import SOURCE_NOTEBOOK
from tests import browser_util as bu

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(bu.chromium_missing() is not None, reason=str(bu.chromium_missing())),
]

SAMPLE = "dropout_bwd_new_masks"  # 30/40: one function wrong, so the page shows a failure


@pytest.fixture(scope="module")
def feedback_html(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    tools.release(root, publish=False)
    folder = root / "submitted" / SAMPLE / "regularization"
    folder.mkdir(parents=True)
    shutil.copy(bu.ROOT / "tests" / "submissions" / SAMPLE / "Regularization.ipynb", folder)
    tools.autograde(root)
    tools.feedback(root)
    return root / "feedback" / SAMPLE / "regularization" / "Regularization.html"


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = bu.launch_chromium(playwright)
        try:
            yield chromium.new_page(viewport={"width": 1000, "height": 900})
        finally:
            chromium.close()


def test_the_feedback_page_reads_well_offline(feedback_html, page):
    fetched = []

    def offline(route):  # only the page itself may load: no CDN, no web font
        fetched.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", offline)
    page.goto(feedback_html.as_uri())
    page.wait_for_load_state("load")
    assert [url for url in fetched if not url.startswith("file:")] == []

    titles = page.locator("#toc li").all_inner_texts()
    assert len(titles) == 14
    assert not any("Test cell" in title for title in titles)
    first_test = next(cell for cell in json.loads(SOURCE_NOTEBOOK.read_text(encoding="utf-8"))["cells"]
                      if cell["metadata"].get("nbgrader", {}).get("grade"))  # fmt: skip
    assert titles[0].startswith(ast.get_docstring(ast.parse("".join(first_test["source"]))))
    assert "Score: 0.0 / 4.0" in titles[-1]  # the cached-masks check of the wrong function

    # Maths is MathML laid out by the browser: formula (2) is a real, wide box.
    assert page.locator("math").count() >= 20
    formula = page.locator('math[display="block"]').nth(1).bounding_box()
    assert formula["width"] > 300
    assert formula["height"] > 25

    # The Expected Output table keeps its columns apart ("cost" | "1.78648594516").
    cells = page.locator("td", has_text="1.78648594516").first
    label = cells.locator("xpath=preceding-sibling::td[1]")
    assert label.inner_text().strip() == "cost"
    assert label.bounding_box()["x"] + label.bounding_box()["width"] <= cells.bounding_box()["x"]

    # Long lines wrap instead of running off the page; the reason is one readable sentence.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000
    reason = page.get_by_text("Test failed: backward_propagation_with_dropout").first
    assert reason.is_visible()
    shown = page.locator("body").inner_text()  # what a person reads, not the page's CSS
    assert "Traceback" not in shown
    assert "run_check" not in shown  # no hidden test, no placeholder code
    assert "assert np." not in shown  # the placeholder asserts of the test cells

    bu.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(bu.ARTIFACTS / "feedback.png"), full_page=True)
