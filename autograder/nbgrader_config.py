"""nbgrader configuration of the regularization course (course root: this folder)."""

import os
import sys

# The course tools live in the `autograder` package at the repo root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

from autograder.nbgrader_ext import CodeHereStubs

c = get_config()  # noqa: F821

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "regularization-course"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Release stubs: "### START CODE HERE ### (approx. N lines)" ... "### END CODE HERE ###".
c.ClearSolutions.code_stub = {"python": "### START CODE HERE ### (approx. {lines})\n### END CODE HERE ###"}
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, CodeHereStubs, ClearOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
    ComputeChecksums, CheckCellMetadata,
]  # fmt: skip

# A cell that runs longer than this is stopped and scores 0 (Execute overrides
# ExecutePreprocessor.timeout in nbgrader 0.9).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A deleted or damaged test cell is put back from the source and graded,
# instead of leaving the grade NULL ("needs manual grading").
c.OverwriteCells.add_missing_cells = True
