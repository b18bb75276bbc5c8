"""Cells of plain definitions run without a fork, unless the notebook rewired its shell."""

from __future__ import annotations

import pytest

from autograder.grader.definitions import MAX_CHARS, definitions_only
from autograder.grader.sandbox import Limits
from tests import corpus
from tests.test_grader_sandbox import run_sandbox

DEFINES = '''
# a comment
def f(x, y=0.5, *args, keep_prob=0.7, **kwargs):
    """A docstring."""
    import numpy as np
    return np.sum(x) * y + undefined_global


async def g():
    pass
'''


@pytest.mark.parametrize(
    "source",
    [
        "@decorator\ndef f():\n    pass",  # runs the decorator
        "def f(x=compute()):\n    pass",  # runs the default
        "def f(x: annotation()):\n    pass",  # runs the annotation
        "def f() -> annotation():\n    pass",
        "class C:\n    value = compute()",
        "def f():\n    pass\nf()",
        "import numpy as np",
        "x = 1",
        "%time x = 1",  # IPython syntax: not plain Python
        "def f(:\n",
        "",
        "def f():\n    pass\n" + "#" * MAX_CHARS,
    ],
)
def test_a_cell_that_evaluates_anything_is_not_inert(source):
    assert definitions_only(source) is False


def test_plain_definitions_docstrings_and_constant_defaults_are_inert():
    assert definitions_only(DEFINES) is True
    assert definitions_only('"""Only a docstring."""\npass') is True


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> corpus.Context:
    root = corpus.make_course(tmp_path_factory.mktemp("definitions") / "course")
    return corpus.Context(corpus.release_notebook(root), root, root.parent)


#: Makes every later cell end its process: a notebook sabotaging its own shell.
_EXIT_IN_EVERY_CELL = """
import ast, os

class _Exit(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body.insert(0, ast.parse("import os; os._exit(9)").body[1])
        node.body.insert(0, ast.parse("import os").body[0])
        return node

get_ipython().ast_transformers.append(_Exit())
"""


def test_a_rewired_shell_brings_the_runner_back_so_the_notebook_goes_on(ctx, tmp_path):
    """The graded cells are inert; after the transformer each crashes in a runner of its own."""
    notebook = corpus.insert_after(corpus.answered(ctx), "imports", corpus.code_cell(_EXIT_IN_EVERY_CELL))
    sandbox, verdicts = run_sandbox(notebook, Limits(), True, tmp_path)
    assert sandbox.stop is None  # the notebook ran to its end: no cell took the checkpoint down
    assert "exited with status 9" in set(sandbox.faults.values())
    assert len(verdicts) == 14
    assert all("is not defined" in verdict for verdict in verdicts.values())
