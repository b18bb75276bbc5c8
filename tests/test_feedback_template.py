"""The feedback template renders nbgrader's own page with the course's three changes, and nothing else.

Rendered here with nbconvert and the exact options ``autograder.tools.feedback``
gives nbgrader, on a two-cell notebook (no grading run, no browser); the
browser test (tests/test_feedback_browser.py) looks at a real feedback page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import nbgrader
import pytest
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Application

from autograder import tools
from autograder.nbgrader_ext import OfflineMaths, RedactHiddenTests

NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
KIT_TEMPLATE = tools.FEEDBACK_TEMPLATE / "regularization.html.j2"


class _Options(Application):
    """Parses the feedback's nbconvert options as nbgrader's command line does."""

    classes: ClassVar[list] = [HTMLExporter]


def exporter() -> HTMLExporter:
    app = _Options()
    app.parse_command_line(tools.feedback_exporter_options())
    # What nbgrader's GenerateFeedback adds itself: the folder of bootstrap.min.css.
    bootstrap = NBGRADER_TEMPLATES.parent / "static" / "node_modules" / "bootstrap" / "dist" / "css"
    app.config.HTMLExporter.extra_template_paths = [str(bootstrap)]
    return HTMLExporter(config=app.config)


def graded(source: str, grade_id: str, outputs=()):
    cell = new_code_cell(source, outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id,
                                 "points": 4, "score": 0}  # fmt: skip
    return cell


@pytest.fixture(scope="module")
def page() -> str:
    failure = new_output("error", ename="CheckFailed", evalue="D1 is not the cached mask",
                         traceback=["secret frame"])  # fmt: skip
    notebook = new_notebook(cells=[
        new_markdown_cell("The penalty $\\frac{\\lambda}{2m} \\sum W^2$ and\n\n$$J = J_0 + L \\tag{2}$$"),
        graded('"""Dropout backward: <uses> the cached masks & scale."""\nassert x\n', "dropout_bwd",
               [failure]),
        graded("assert y\n", "untitled_check"),
    ])  # fmt: skip
    resources = {"nbgrader": {"notebook": "Regularization", "score": 0.0, "max_score": 8.0,
                              "late_penalty": 0}}  # fmt: skip
    notebook, resources = RedactHiddenTests().preprocess(notebook, resources)
    del notebook.cells[2].metadata.nbgrader["title"]  # a test cell that never got a title
    notebook, resources = OfflineMaths().preprocess(notebook, resources)
    html, _ = exporter().from_notebook_node(notebook, resources=resources)
    return html


def test_the_page_is_nbgraders_feedback_page(page):
    upstream = (NBGRADER_TEMPLATES / "feedback" / "index.html.j2").read_text(encoding="utf-8")
    kit = KIT_TEMPLATE.read_text(encoding="utf-8")
    for piece in ("div.nbgrader_cell .panel-heading", "li.late-penalty", 'id="toc"'):
        assert piece in upstream
        assert piece in page  # drawn by nbgrader's template ...
        assert piece not in kit  # ... not by a copy of it
    assert "<title>Regularization</title>" in page
    assert "(Score: 0.0 / 8.0)" in page
    assert "Test failed: D1 is not the cached mask" in page
    assert "secret frame" not in page


def test_no_mathjax_and_nothing_from_the_network(page):
    assert "mathjax" not in page.lower()
    assert re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']?(?:https?:)?//""", page) == []
    assert page.count("<math") == 2
    assert 'display="block"' in page


def test_the_tests_are_listed_under_what_they_check_escaped(page):
    toc = page[page.index('<div id="toc">') : page.index("</ol>")]
    assert "Test cell" not in toc
    titles = re.findall(r'<a href="#([^"]+)"><span class="check-title">([^<]*)</span></a>', toc)
    assert titles == [
        ("dropout_bwd", "Dropout backward: &lt;uses&gt; the cached masks &amp; scale."),
        ("untitled_check", "untitled_check"),
    ]


def test_the_courses_css_is_in_the_head(page):
    head = page[: page.index("</head>")]
    assert "white-space: pre-wrap" in head
    assert "border-collapse: collapse" in head
    assert 'math[display="block"]' in head
