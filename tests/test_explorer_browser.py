"""The explorer in a real browser: headless Chromium driving JupyterLab and the Voila page.

Each test starts its own server on a free port with its own temporary
directories, moves the lambda slider with the keyboard, and checks that
the picture and the numbers follow, also after several quick moves. They
skip, saying how to enable them, where Debian's chromium is missing.
"""

from __future__ import annotations

import json

import pytest

from reg_utils.explorer import LAMBDA_CHOICES
from tests import browser_util as bu

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bu.chromium_missing() is not None, reason=str(bu.chromium_missing())),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = bu.launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def lab(tmp_path):
    server = bu.start_server(bu.lab_server, tmp_path)
    try:
        yield server
    finally:
        server.stop()
        print(f"JupyterLab log: {server.log_path}")


@pytest.fixture
def voila(tmp_path):
    server = bu.start_server(bu.voila_server, tmp_path)
    try:
        yield server
    finally:
        server.stop()
        print(f"Voila log: {server.log_path}")


def drive_lambda_slider(explorer: bu.ExplorerPage, screenshot: str) -> None:
    """Keyboard on the lambda handle: one move, then five quick ones; check what is shown."""
    page = explorer.page
    handle = explorer.handle("lambda")
    handle.focus()
    src, accuracy = explorer.boundary_src(), explorer.accuracy_text()
    explorer.start_recording()
    page.keyboard.press("Home")  # lambda "off": the unregularized network
    assert explorer.readout("lambda") == "off"
    shown = explorer.wait_until_done(30_000)
    assert shown["lambdaLabel"] == "off"
    assert explorer.boundary_src() != src, "the boundary picture did not change"
    assert explorer.accuracy_text() != accuracy, "the accuracy text did not change"
    first, finished = explorer.latencies()
    print(f"lambda -> off: first picture {first:.0f} ms, finished {finished:.0f} ms")

    for _ in range(6):  # quick moves: each makes the run before it stale
        page.keyboard.press("ArrowRight")
    final = explorer.readout("lambda")
    assert final == f"{LAMBDA_CHOICES[6]:g}"  # six stops up from "off"
    shown = explorer.wait_until_done(30_000)
    assert shown["lambdaLabel"] == final
    assert shown["iteration"] == shown["iterations"] == "30000"
    after = explorer.round_trip()  # everything sent before the barrier has arrived
    assert after["lambdaLabel"] == final  # nothing stale arrived after the final picture
    assert after["generation"] == shown["generation"]
    explorer.screenshot(screenshot)


def test_explorer_in_jupyterlab(browser, lab):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    explorer = bu.open_in_lab(page, lab)
    explorer.dismiss_news(wait_ms=3000)
    caption = explorer.caption()
    assert caption["lambdaLabel"] == "0.7" and caption["regularizer"] == "L2"  # noqa: PT018
    assert page.locator(".rex-legend-values").is_visible()  # what circles and triangles mean
    drive_lambda_slider(explorer, "explorer-jupyterlab.png")
    assert page.locator(".jp-Dialog").count() == 0  # no error dialog appeared
    explorer.dismiss_news()
    page.close()
    closed = lab.shutdown_kernels()
    assert closed, "no kernel was shut down through the API"
    status, kernels = lab.request("GET", "/api/kernels")
    assert status == 200
    assert kernels == []


def test_explorer_as_a_voila_page(browser, voila):
    assert "--strip_sources=True" in voila.argv
    assert "--Voila.ip=127.0.0.1" in voila.argv
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    explorer = bu.open_in_voila(page, voila, query="?regularizer=L2&lambd=0.3")
    assert explorer.caption()["lambdaLabel"] == "0.3"  # settings from the page address
    assert page.locator(".jp-CodeMirrorEditor, .jp-InputPrompt").count() == 0  # no code shown
    assert "explorer = show_explorer(" not in page.content()
    assert page.locator(".rex-legend-values").is_visible()
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    loaded = [extension["name"] for extension in config.get("federated_extensions", [])]
    assert "@jupyter/nbgrader" not in loaded  # the instructor's extension stays off the page
    drive_lambda_slider(explorer, "explorer-voila.png")
    page.close()
    assert voila.shutdown_kernels() == sorted(voila.kernel_ids)
    status, _ = voila.request("GET", f"/api/kernels/{next(iter(voila.kernel_ids))}")
    assert status == 404


@pytest.mark.parametrize(
    "notebook", ["notebooks/Explore_regularization.ipynb", "notebooks/Regularization.ipynb"]
)
def test_opening_a_notebook_leaves_it_unmodified(browser, lab, notebook):
    """A student who only opens a notebook (kernel started, nothing run) has nothing to save.

    The one thing JupyterLab may rewrite is the Python version in
    language_info, when this machine's Python differs from the one that
    wrote the file; everything else must be as saved.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{lab.base}/lab/tree/{notebook}?token={lab.token}&reset", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext",
        timeout=120_000,
    )
    opened = page.evaluate(
        """async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.ready;
            await panel.sessionContext.ready;
            const kernel = panel.sessionContext.session.kernel;
            await kernel.info;  // connected, and its language_info has reached the notebook
            await kernel.requestKernelInfo();  // one more round trip: nothing else is pending
            return {dirty: panel.context.model.dirty, model: panel.context.model.toJSON()};
        }"""
    )
    status, saved = lab.request("GET", f"/api/contents/{notebook}?content=1")
    assert status == 200
    saved, model = saved["content"], opened["model"]
    shown_info = dict(model["metadata"].pop("language_info"))
    saved_info = dict(saved["metadata"].pop("language_info"))
    same_python = shown_info.pop("version", None) == saved_info.pop("version", None)
    assert shown_info == saved_info
    assert model["metadata"] == saved["metadata"]
    assert [(c["id"], c["source"]) for c in model["cells"]] == [
        (c["id"], c["source"]) for c in saved["cells"]
    ]
    if same_python:
        assert opened["dirty"] is False
    assert page.locator(".jp-Dialog").count() == 0
    page.close()
