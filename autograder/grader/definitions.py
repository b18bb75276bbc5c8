"""Which notebook cells only define functions, so the sandbox may run them without a fork.

The sandbox runs each code cell in a forked runner so that a crash or a hang
costs that cell only (``harness.run_steps``). A cell whose statements are only
plain ``def`` statements (no decorator, no annotation, constant defaults) and
docstrings evaluates nothing when it runs: it binds names, so it can neither
crash nor hang, and the fork (tens of milliseconds with NumPy and matplotlib
loaded) buys nothing. The graded cells are such cells. The grader decides
here, from the text, and marks the step; the sandbox still forks when the
notebook has installed hooks that could run code in any cell (``harness``).
"""

from __future__ import annotations

import ast

#: Longer cells are run in a runner anyway: parsing them here is not worth it.
MAX_CHARS = 20_000


def definitions_only(source: str) -> bool:
    """True when running ``source`` can only bind function names (see the module docstring)."""
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_CHARS:
        return False
    try:
        tree = ast.parse(source)
    except Exception:  # SyntaxError, or a parser limit: the runner reports it as usual
        return False
    return all(_inert(node) for node in tree.body)


def _inert(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)  # a docstring, or a bare constant
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    defaults = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
    return (
        not node.decorator_list
        and node.returns is None
        and all(a.annotation is None for a in every)
        and all(isinstance(d, ast.Constant) for d in defaults)
    )
