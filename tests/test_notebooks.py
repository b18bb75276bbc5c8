"""The notebooks run: nbval checks the instructor notebook's outputs, the others execute."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbclient
import nbformat
import pytest

from autograder.reference import SOURCE_NOTEBOOK

NOTEBOOKS_DIR = SOURCE_NOTEBOOK.parents[3] / "notebooks"


def nbval(*args, cwd):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return result.returncode, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.mark.slow
def test_instructor_notebook_outputs_match(root):
    code, output = nbval(
        "--nbval", str(SOURCE_NOTEBOOK), "--nbval-sanitize-with", str(root / "tests" / "nbval_sanitize.cfg"),
        "-W", "error", cwd=root,
    )  # fmt: skip
    assert code == 0, output
    assert re.search(r"\b\d+ passed\b", output), output


@pytest.mark.slow
def test_other_notebooks_execute(root, tmp_path):
    """Every other notebook at least runs: the answered release and the explorer."""
    answered = tmp_path / "Regularization.ipynb"
    answered.write_bytes((root / "tests" / "submissions" / "correct" / "Regularization.ipynb").read_bytes())
    others = [answered, *(p for p in NOTEBOOKS_DIR.glob("*.ipynb") if p.name != "Regularization.ipynb")]
    code, output = nbval("--nbval-lax", *map(str, others), cwd=root)
    assert code == 0, output


#: Hosts a notebook may link to: the documentation of the libraries it names.
LINK_HOSTS = ("pytorch.org", "keras.io", "www.tensorflow.org", "numpy.org", "matplotlib.org", "github.com")


def markdown_targets(cells):
    """(cell, target) for every link and image of the markdown cells, LaTeX left out."""
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", "".join(cell["source"]), flags=re.S)
            for target in re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(
                r"<img[^>]+src=\"([^\"]+)\"", text
            ):
                yield cell, target


def broken_targets(notebook_path) -> list[str]:
    """Links and images that would not resolve for a reader of ``notebook_path``.

    Local files must exist next to the notebook, ``attachment:`` images must be
    attached to their cell, in-page anchors must name a heading, and web links
    must be https URLs on a documentation host (there is no network here).
    """
    cells = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
    headings = {
        re.sub(r"\s+", "-", line.lstrip("#").strip())
        for cell in cells if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines() if line.startswith("#")
    }  # fmt: skip
    broken = []
    for cell, target in markdown_targets(cells):
        if target.startswith(("http://", "https://")):
            host = re.match(r"https://([\w.-]+)/", target)
            ok = bool(host) and host.group(1) in LINK_HOSTS
        elif target.startswith("attachment:"):
            ok = target.removeprefix("attachment:") in cell.get("attachments", {})
        elif target.startswith("#"):
            ok = target[1:] in headings
        else:
            ok = (notebook_path.parent / target.split("#")[0]).exists()
        if not ok:
            broken.append(target)
    return broken


@pytest.mark.parametrize(
    "notebook", [SOURCE_NOTEBOOK, *sorted(NOTEBOOKS_DIR.glob("*.ipynb"))], ids=lambda p: p.name
)
def test_every_link_and_image_resolves(notebook):
    assert broken_targets(notebook) == []


def test_the_link_check_finds_each_kind_of_broken_target(tmp_path):
    """The check above can fail: one good and one broken target of each kind."""
    (tmp_path / "figure.png").write_bytes(b"\x89PNG")
    source = (
        "# Section one\n[docs](https://pytorch.org/docs/) [bad host](https://example.com/x) "
        "[plain http](http://keras.io/) [here](figure.png) [gone](missing.png) "
        "[up](#Section-one) [nowhere](#Section-two) "
        '![kept](attachment:kept.png) ![lost](attachment:lost.png) <img src="missing.svg">'
    )
    cell = {"cell_type": "markdown", "metadata": {}, "source": [source],
            "attachments": {"kept.png": {"image/png": ""}}}  # fmt: skip
    notebook = tmp_path / "links.ipynb"
    notebook.write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    assert broken_targets(notebook) == [
        "https://example.com/x", "http://keras.io/", "missing.png", "#Section-two", "attachment:lost.png",
        "missing.svg",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "notebook", [SOURCE_NOTEBOOK, *sorted(NOTEBOOKS_DIR.glob("*.ipynb"))], ids=lambda p: p.name
)
def test_code_cells_stay_short(notebook):
    """Bulky code belongs in reg_utils: median code cell <= 8 lines, graded cells aside."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lengths = sorted(
        len("".join(c["source"]).splitlines())
        for c in cells
        if c["cell_type"] == "code" and not c["metadata"].get("nbgrader", {}).get("solution")
        and c["metadata"].get("nbgrader", {}).get("grade_id") != "model"
    )  # fmt: skip
    assert lengths[len(lengths) // 2] <= 8
    assert max(lengths) <= 30


@pytest.mark.slow
def test_run_all_on_a_fresh_release_stops_with_one_sentence(root):
    """A student who runs every cell before answering reads which function to write, not a traceback."""
    notebook = nbformat.read(NOTEBOOKS_DIR / "Regularization.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={
        "metadata": {"path": str(NOTEBOOKS_DIR)}})  # fmt: skip
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    errors = [out for cell in notebook.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert len(errors) == 1  # Run All stops at the first unanswered exercise
    (line,) = errors[0].traceback
    assert "compute_cost_with_regularization is not finished: `L2_regularization_cost`" in line
    assert "Traceback" not in line
