"""The reference solutions, read from their single home: the instructor notebook.

The four graded functions exist once, in the solution cells of
``source/regularization/Regularization.ipynb``. Tests, hidden checks, the
mistake catalogue and the grader all get them from here, by executing
those cells, so no second copy can drift.
"""

from __future__ import annotations

import functools
import json
import linecache
from pathlib import Path

from testCases.contract import GRADED_NAMES

COURSE_ROOT = Path(__file__).resolve().parent
ASSIGNMENT = "regularization"
SOURCE_NOTEBOOK = COURSE_ROOT / "source" / ASSIGNMENT / "Regularization.ipynb"

#: The graded functions, in the order the notebook introduces them (declared in testCases.contract).
GRADED_FUNCTIONS = GRADED_NAMES

#: What the solution cells may use, as the notebook's import cell provides it.
PRELUDE = "import numpy as np\nfrom reg_utils import compute_cost, relu, sigmoid\n"


def solution_cells(notebook_path: Path = SOURCE_NOTEBOOK) -> dict[str, str]:
    """Map each graded function's name to the source of its solution cell."""
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    cells = {}
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in GRADED_FUNCTIONS:
            cells[meta["grade_id"]] = "".join(cell["source"])
    missing = [name for name in GRADED_FUNCTIONS if name not in cells]
    if missing:
        raise LookupError(f"{notebook_path} has no solution cell for {', '.join(missing)}.")
    return cells


def define_functions(sources: dict[str, str]) -> dict:
    """Execute cell sources after the prelude; return the graded functions they define."""
    namespace: dict = {}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    for name, source in sources.items():
        filename = f"<solution cell {name}>"
        # Like IPython with a notebook cell: tracebacks and inspect can show the source lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return {name: namespace[name] for name in GRADED_FUNCTIONS if name in namespace}


@functools.cache
def reference_solutions() -> dict:
    """The four reference functions, defined from the source notebook (cached)."""
    return define_functions(solution_cells())
