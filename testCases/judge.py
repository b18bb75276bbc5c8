"""The one judge of student work: visible checks, hidden tests and the explorer all ask it.

``judge_output`` judges one output of a graded function on given inputs (the
hidden tests call it on plain data that came back from a sandbox).
``examine`` calls a student's function the way the visible check does, on the
assignment's fixture and, where one output cannot tell, on a larger probe;
it turns an exception into a sentence that names the student's line.
"""

from __future__ import annotations

import inspect
import linecache
import re

import numpy as np

from .contract import GRADED, network
from .dropout_judge import stream_note
from .findings import Finding, wrong

_REGION = re.compile(r"### START CODE HERE ###[^\n]*\n(.*?)^[ \t]*### END CODE HERE ###", re.S | re.M)
#: The probe that counts the share of kept units: examples (the fixture's layers have 2 and 3 units),
#: and a keep_prob far from the fixture's 0.7, from 0.5 and from 1 - 0.7, so that a hard-coded
#: threshold or an inverted comparison keeps a share more than 6 standard deviations off.
PROBE_EXAMPLES, PROBE_KEEP_PROB = 4000, 0.25


def judge_output(name: str, args: tuple, kwargs: dict, output) -> Finding:
    """The verdict on ``output`` = ``name(*args, **kwargs)``. Never raises."""
    graded = GRADED[name]
    try:
        return graded.judge(graded.inputs(tuple(args), dict(kwargs)), output)
    except Exception as exc:  # an output of a shape no judge foresaw is still a verdict
        return wrong(f"The output could not be checked ({type(exc).__name__}: {str(exc)[:200]}); "
                     f"the function must return {graded.returns.removeprefix('its ')}.")  # fmt: skip


def empty_regions(function) -> tuple[int, int]:
    """(empty, total) code regions between START/END CODE HERE in the function's source; (0, 0) if unknown."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return 0, 0
    regions = _REGION.findall(source)
    empty = [r for r in regions if not [line for line in r.splitlines() if line.strip() and
                                        not line.strip().startswith("#")]]  # fmt: skip
    return len(empty), len(regions)


def _unanswered(function) -> str:
    empty, total = empty_regions(function)
    if not empty:
        return ""
    which = (
        "Its code region is"
        if total == 1
        else ("Its code regions are" if empty == total else f"{empty} of its {total} code regions are")
    )
    return (f"{which} still empty: write your code between ### START CODE HERE ### and "
            "### END CODE HERE ###, then run the cell again.")  # fmt: skip


def describe_exception(exc: BaseException, function) -> str:
    """The exception as a sentence: its line in the student's code and the shapes on that line."""
    code = getattr(function, "__code__", None)
    frame, line_number = None, None
    traceback = exc.__traceback__
    while traceback is not None:
        if code is not None and traceback.tb_frame.f_code.co_filename == code.co_filename:
            frame, line_number = traceback.tb_frame, traceback.tb_lineno
        traceback = traceback.tb_next
    sentence = f"Your function raised {type(exc).__name__}: {str(exc)[:300]}"
    if frame is None:
        return sentence + "."
    line = linecache.getline(code.co_filename, line_number).strip()
    shapes = []
    for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", line)):
        value = frame.f_locals.get(name)
        if isinstance(value, np.ndarray):
            shapes.append(f"{name} has shape {value.shape}")
        elif name in frame.f_locals and value is None:
            shapes.append(f"{name} is None")
        elif isinstance(value, tuple) and not name.startswith("cache"):
            shapes.append(f"{name} is a tuple of {len(value)} item(s) (a trailing comma?)")
    where = f" at line {line_number - code.co_firstlineno + 1} of the function"
    where += f", `{line}`" if line else ""
    return sentence.rstrip(" .") + where + "." + (" There " + ", ".join(shapes) + "." if shapes else "")


def _call(function, args, kwargs):
    try:
        return function(*args, **kwargs), None
    except Exception as exc:  # the student's bug is what we report
        return None, exc


def examine(name: str, function, args: tuple | None = None, kwargs: dict | None = None) -> Finding:
    """Call ``function`` like the visible check (fixture by default) and judge it. Never raises.

    The global NumPy random state is restored afterwards: the check must not
    change what the student's next cell draws.
    """
    graded = GRADED[name]
    on_fixture = args is None
    if on_fixture:
        args, kwargs = graded.fixture_call()
    kwargs = dict(kwargs or {})
    state = np.random.get_state()
    try:
        return _examine(graded, function, tuple(args), kwargs, on_fixture)
    finally:
        np.random.set_state(state)


def _examine(graded, function, args, kwargs, on_fixture: bool) -> Finding:
    output, exc = _call(function, args, kwargs)
    unanswered = _unanswered(function)
    if exc is not None:
        return wrong(unanswered or describe_exception(exc, function))
    if graded.random_free and _draws_random_numbers(function, args, kwargs, output):
        return wrong("The gradients change from call to call: the function draws random numbers. Reuse the "
                     "masks D1 and D2 from the cache; draw no new ones.")  # fmt: skip
    finding = judge_output(graded.name, args, kwargs, output)
    if not finding.ok:
        if unanswered and empty_regions(function)[0] == empty_regions(function)[1]:
            return wrong(unanswered)
        return wrong(unanswered, *_recheck(graded, function, args, kwargs, finding).messages)
    if graded.name == "forward_propagation_with_dropout":
        return _forward_probe(graded, function, args, kwargs, output, on_fixture)
    return finding


def _recheck(graded, function, args, kwargs, finding: Finding) -> Finding:
    """At one hyperparameter two mistakes can give the same numbers (lambd = 1/(2m) at the fixture):
    judge again at another one, and keep its diagnosis when it is specific and differs."""
    if not graded.recheck_kwargs:
        return finding
    again_kwargs = {**kwargs, **graded.recheck_kwargs}
    output, exc = _call(function, args, again_kwargs)
    if exc is not None:
        return finding
    again = judge_output(graded.name, args, again_kwargs, output)
    specific = [m for m in again.messages if "compare" not in m and not m.startswith("The cost is")]
    mine = [m for m in finding.messages if not m.startswith("The cost is")]
    if again.ok or not specific or specific == mine:
        return finding
    head = [m for m in finding.messages if m.startswith("The cost is")]
    return wrong(*head, *specific)


def _forward_probe(graded, function, args, kwargs, output, on_fixture: bool) -> Finding:
    """A valid-looking forward pass on few units: count its masks on a larger input, then compare draws."""
    inputs = graded.inputs(args, kwargs)
    X, parameters = np.asarray(inputs["X"]), inputs["parameters"]
    X_big = network(5, (X.shape[0], 1), PROBE_EXAMPLES)[0]
    big_args = (X_big, parameters)
    big, exc = _call(function, big_args, {"keep_prob": PROBE_KEEP_PROB})
    if exc is not None:
        return wrong(
            f"On an input of {PROBE_EXAMPLES} examples, keep_prob = {PROBE_KEEP_PROB}: "
            + describe_exception(exc, function)
        )
    probe = judge_output(graded.name, big_args, {"keep_prob": PROBE_KEEP_PROB}, big)
    if not probe.ok:
        return wrong(
            *(
                f"On an input of {PROBE_EXAMPLES} examples, keep_prob = {PROBE_KEEP_PROB}: {m}"
                for m in probe.messages
            )
        )
    if not on_fixture:
        return Finding(True)
    expected = _assignment_draws(X.shape[1], parameters, inputs["keep_prob"])
    return Finding(True, note=stream_note(inputs, output, expected))


def _assignment_draws(m: int, parameters, keep_prob):
    """The masks the expected output uses: seed 1, rand for D1 then for D2 (and the raw numbers)."""
    rng = np.random.RandomState(1)
    U1 = rng.rand(parameters["W1"].shape[0], m)
    U2 = rng.rand(parameters["W2"].shape[0], m)
    return U1 < keep_prob, U2 < keep_prob, U1, U2


def _draws_random_numbers(function, args, kwargs, output) -> bool:
    """Does the output change with the random state? (A right backward pass reuses the cached masks.)"""
    np.random.seed(12345)
    again, exc = _call(function, args, kwargs)
    if exc is not None or not (isinstance(again, dict) and isinstance(output, dict)):
        return False
    try:
        return any(not np.array_equal(np.asarray(again.get(k)), np.asarray(v)) for k, v in output.items())
    except (TypeError, ValueError):
        return False
