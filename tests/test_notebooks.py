"""The notebooks run: nbval checks the instructor notebook's outputs, the others execute."""

from __future__ import annotations

import json
import re
import subprocess
import sys

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


def markdown_targets(notebook_path):
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", "".join(cell["source"]), flags=re.S)  # no LaTeX
            yield from re.findall(r"\]\(([^)\s]+)\)", text)
            yield from re.findall(r"<img[^>]+src=\"([^\"]+)\"", text)


@pytest.mark.parametrize(
    "notebook", [SOURCE_NOTEBOOK, *sorted(NOTEBOOKS_DIR.glob("*.ipynb"))], ids=lambda p: p.name
)
def test_every_link_and_image_resolves(notebook):
    """Local links and images exist; web links are well-formed https URLs (no network here)."""
    for target in markdown_targets(notebook):
        if target.startswith(("http://", "https://")):
            assert re.fullmatch(r"https://[\w.-]+(/[\w./%#?=&+-]*)?", target), target
        elif not target.startswith("#"):
            assert (notebook.parent / target).exists(), f"{notebook.name} links to missing {target}"


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
