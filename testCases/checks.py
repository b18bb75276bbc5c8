"""Checks that tell a student whether a graded function is right, and if not, why.

Each ``*_test(function)`` asks the judge (``testCases.judge``) about the
function on the assignment's fixture and prints the verdict: ``All tests
passed.``, or what is wrong and how to fix it. A check never raises: whatever
the function does, the student reads a sentence.

``public_test`` is the visible part of a graded test cell: the same judge on
public inputs, raising ``NotRightYet`` (with the sentences, never a bare
assertion) when the function is wrong.
"""

from __future__ import annotations

from .contract import GRADED, GRADED_NAMES, network

#: What a check says where the judge is hidden: inside the grading sandbox (see testCases/contract.py).
NO_JUDGE_HERE = (
    "The visible checks do not run while the notebook is graded; the graded test cells judge this function."
)


def _judge():
    """The judge module, imported only when a check runs (a grading sandbox hides it)."""
    from . import judge

    return judge


class NotRightYet(AssertionError):
    """A public test failed: the message says what is wrong and how to fix it."""


def report(function_name: str, function) -> str:
    """The text a check prints for ``function``."""
    if not callable(function):
        return f"Pass the function itself, e.g. {function_name}_test({function_name})."
    try:
        examine = _judge().examine
    except ImportError:
        return NO_JUDGE_HERE
    finding = examine(function_name, function)
    if finding.ok:
        return "All tests passed." + (f"\nNote: {finding.note}" if finding.note else "")
    return "\n".join([f"{function_name} is not right yet.", *(" - " + m for m in finding.messages)])


def _public_inputs(name: str, other_inputs: bool, large: bool) -> tuple:
    """Positional inputs of a public test: the fixture, or a public network of other shapes."""
    graded = GRADED[name]
    if not (other_inputs or large):
        return tuple(graded.fixture())
    X, Y, parameters = network(2024, (3, 6, 4, 1) if other_inputs else (2, 20, 3, 1),
                               8 if other_inputs else _judge().PROBE_EXAMPLES)  # fmt: skip
    if name == "compute_cost_with_regularization":
        from reg_utils.network import forward_propagation

        return forward_propagation(X, parameters)[0], Y, parameters
    if name == "backward_propagation_with_regularization":
        from reg_utils.network import forward_propagation

        return X, Y, forward_propagation(X, parameters)[1]
    if name == "forward_propagation_with_dropout":
        return X, parameters
    raise ValueError(f"{name} has no public test on other inputs")


def public_test(function, *, other_inputs: bool = False, large: bool = False, **hyperparameter) -> None:
    """Judge ``function`` on public inputs; raise ``NotRightYet`` with the reasons when it is wrong.

    By default the assignment's fixture with its hyperparameter; ``other_inputs``: a small network
    of other shapes; ``large``: 4000 examples, enough to count dropped units; ``hyperparameter``
    (e.g. ``lambd=0.0``) replaces the fixture's value.
    """
    name = getattr(function, "__name__", "")
    if name not in GRADED:
        raise NotRightYet(f"Pass one of the graded functions itself, e.g. public_test({GRADED_NAMES[0]}).")
    graded = GRADED[name]
    args = _public_inputs(name, other_inputs, large)
    kwargs = {**graded.fixture_kwargs, **hyperparameter}
    on_fixture = not (other_inputs or large) and kwargs == graded.fixture_kwargs
    examine = _judge().examine
    finding = examine(name, function) if on_fixture else examine(name, function, args, kwargs)
    if not finding.ok:
        raise NotRightYet("\n".join([f"{name} is not right yet.", *(" - " + m for m in finding.messages)]))


def _check(function_name: str):
    def check(target) -> None:
        print(report(function_name, target))

    check.__name__ = check.__qualname__ = f"{function_name}_test"
    check.__doc__ = f"Check ``{function_name}`` on the assignment's fixture; print the verdict and hints."
    return check


#: One ``<name>_test`` per graded function, e.g. ``compute_cost_with_regularization_test``.
VISIBLE_CHECKS = {f"{name}_test": _check(name) for name in GRADED_NAMES}
globals().update(VISIBLE_CHECKS)
