"""Sample submissions: the student release with its code regions filled in.

``tests/submissions/<name>/Regularization.ipynb`` holds one notebook per case:
``correct`` (the reference code), one per catalogued mistake, and
``unanswered`` (the release as handed out). They are what a student would
hand in, built from the release so that they carry its metadata and
checksums. Run ``python -m autograder.samples`` after a change to the notebook
or the catalogue; a test fails while the committed copies are stale.
"""

from __future__ import annotations

import json
import re
import sys

from .mistakes import CATALOGUE, mistaken_cell
from .reference import GRADED_FUNCTIONS, solution_cells
from .tools import REPO_ROOT, STUDENT_RELEASE

SAMPLES = REPO_ROOT / "tests" / "submissions"
_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?\n(.*?)^[ \t]*### END SOLUTION[^\n]*\n?", re.S | re.M)
_STUB = re.compile(r"(^[ \t]*### START CODE HERE ###[^\n]*\n)(^[ \t]*### END CODE HERE ###)", re.M)


def solution_regions(cell_source: str) -> list[str]:
    """The code between each BEGIN SOLUTION / END SOLUTION pair of a source cell."""
    return _REGION.findall(cell_source)


def fill_stubs(release_source: str, regions: list[str]) -> str:
    """Put ``regions`` between the START/END CODE HERE lines of a release cell, in order."""
    stubs = _STUB.findall(release_source)
    if len(stubs) != len(regions):
        raise ValueError(f"the release cell has {len(stubs)} stubs for {len(regions)} code regions")
    answers = iter(regions)
    return _STUB.sub(lambda match: match.group(1) + next(answers) + match.group(2), release_source)


def answered(release: dict, cells: dict[str, str]) -> dict:
    """A copy of the release notebook with every graded cell answered from ``cells``."""
    notebook = json.loads(json.dumps(release))
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in GRADED_FUNCTIONS:
            source = fill_stubs("".join(cell["source"]), solution_regions(cells[grade_id]))
            cell["source"] = source.splitlines(keepends=True)
    return notebook


def sample_notebooks() -> dict[str, dict]:
    """Every sample submission by name: correct, unanswered and one per mistake."""
    release = json.loads(STUDENT_RELEASE.read_text(encoding="utf-8"))
    reference = solution_cells()
    samples = {"correct": answered(release, reference), "unanswered": release}
    for mistake in CATALOGUE:
        cells = dict(reference)
        cells[mistake.function] = mistaken_cell(mistake, reference)
        samples[mistake.id] = answered(release, cells)
    return samples


def notebook_text(notebook: dict) -> str:
    """Serialise like Jupyter does (one-space indent, trailing newline)."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    for name, notebook in sample_notebooks().items():
        folder = SAMPLES / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Regularization.ipynb").write_text(notebook_text(notebook), encoding="utf-8")
    print(f"wrote {len(sample_notebooks())} sample submissions under {SAMPLES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
