"""Verdicts, computed in the grader's own process from the plain outputs the sandbox sent.

The hidden checks' calls are built here once per batch (``Calls``) and shipped
to the sandbox as data; what comes back is decoded by ``wire`` (no pickle),
passed through ``hidden_checks.to_plain`` again, and judged with
``hidden_checks.verdict``. Nothing the submission defined ever runs here.

Hard-coded answers: the notebook prints the expected outputs of the four
fixtures, so a function that merely returns those numbers would pass a check
made on the fixture alone. Every call made on the assignment's fixture
therefore gets a *twin*: the same function on fresh data of other shapes,
with the hyperparameter (``lambd`` or ``keep_prob``) moved; a fixture check
passes only if its twin passes too. The checks themselves already pair each
fixture call with such a twin; the grader adds its own as a second line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from autograder.hidden_checks import CHECKS, Call, CallError, note, to_plain, twin_of, verdict

from . import wire

#: How a twin moves the hyperparameter of a fixture call.
TWIN_SHIFT = {"lambd": 0.25, "keep_prob": -0.1}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@functools.cache
def _fixture_args(function: str) -> tuple:
    import testCases

    builder = getattr(testCases, f"{function}_test_case", None)
    return tuple(builder()) if builder else ()


def twin(call: Call) -> Call | None:
    """The twin of a call on the notebook's fixture (fresh data and shapes), or None for any other call."""
    if not _same(tuple(call.args), _fixture_args(call.function)):
        return None
    for name, shift in TWIN_SHIFT.items():
        value = call.kwargs.get(name)
        if isinstance(value, float) and (name != "keep_prob" or value < 1):
            return twin_of(call, shift)
    return None


@dataclass(frozen=True)
class Calls:
    """The calls of every check, their twins, and the wire form shipped to the sandbox."""

    calls: dict[str, list[Call]]
    twins: dict[str, list[Call]]
    wire_form: dict[str, list[dict]]

    @classmethod
    @functools.cache
    def build(cls) -> Calls:
        calls, twins, wire_form = {}, {}, {}
        for gid, check in CHECKS.items():
            calls[gid] = check.calls()
            twins[gid] = [t for t in (twin(c) for c in calls[gid]) if t is not None]
            wire_form[gid] = [
                {"f": c.function, "args": wire.encode(tuple(c.args)), "kwargs": wire.encode(dict(c.kwargs))}
                for c in calls[gid] + twins[gid]
            ]
        return cls(calls, twins, wire_form)


def plain_output(tree):
    """A wire output as ``hidden_checks.perform`` would have returned it: plain value or CallError."""
    try:
        value = wire.decode(tree, max_items=10_000_000)
    except wire.WireError as exc:
        return CallError("GraderError", f"the output could not be read: {exc}")
    if isinstance(value, wire.Fault):
        return CallError(value.kind, value.message)
    try:
        return to_plain(value)
    except TypeError as exc:
        return CallError("TypeError", str(exc)[:300])


def _run_judge(check, outputs, calls) -> str | None:
    try:
        check.judge(outputs, calls)
    except AssertionError as failure:
        return str(failure)
    except Exception as exc:
        return f"the returned values could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def judge(gid: str, raw_outputs: list, calls: Calls) -> str | None:
    """None if check ``gid`` passes on these wire outputs, else ``"function: reason"``."""
    check = CHECKS[gid]
    count = len(calls.calls[gid])
    if not isinstance(raw_outputs, list) or len(raw_outputs) != count + len(calls.twins[gid]):
        return f"{check.function}: the grader received an incomplete set of results"
    outputs = [plain_output(tree) for tree in raw_outputs]
    try:
        reason = verdict(check, outputs[:count], calls.calls[gid])  # built once a batch
    except Exception as exc:
        reason = f"the returned values could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
    if reason is None and calls.twins[gid]:
        twin_reason = _run_judge(check, outputs[count:], calls.twins[gid])
        if twin_reason is not None:
            reason = (
                "the result on the notebook's fixture is not reproduced on other data and shapes "
                f"with another {'/'.join(sorted(calls.twins[gid][0].kwargs))} (is the answer "
                f"hard-coded?): {twin_reason}"
            )
    return None if reason is None else f"{check.function}: {reason}"


def remark(gid: str, raw_outputs: list, calls: Calls) -> str:
    """For a passing check: a note for the student (a valid dropout on another random stream), else ''."""
    count = len(calls.calls[gid])
    if not isinstance(raw_outputs, list) or len(raw_outputs) < count:
        return ""
    try:
        return note(CHECKS[gid], [plain_output(tree) for tree in raw_outputs[:count]])
    except Exception:  # a note is a courtesy: never let it break a verdict
        return ""
