"""Hidden tests of the four graded functions, written as data the grader can move.

A check is a list of **calls** (which graded function, with which inputs) and
a **judge** that turns the plain outputs of those calls into a verdict. Two
runners use the same checks:

- ``run_check(grade_id, globals())`` inside the notebook's hidden test cells
  (the stock nbgrader path): the calls run in the student's kernel;
- the hardened grader runs the calls in an isolated child process and judges
  the returned arrays in its own process, where the submission cannot reach.

Every verdict comes from the one judge of student work (``testCases.judge``),
the same that the visible checks and the explorer ask: a right answer is
right on any inputs, and any valid dropout is right whatever its random
numbers. Each check that runs on the notebook's fixture also runs on fresh
inputs of other shapes, so a memorised answer earns nothing. The finite
differences are taken of the reference cost from the source notebook
(``autograder.reference``), never of the student's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reg_utils import forward_propagation
from testCases.contract import COST, DROP_BACKWARD, DROP_FORWARD, GRADED, L2_BACKWARD, network
from testCases.dropout_judge import mask_problem, statistics_problem, stream_note
from testCases.findings import Wrong
from testCases.judge import judge_output

from .grader.wire import to_plain  # one definition: what may cross from student code
from .reference import reference_solutions


class CheckFailed(AssertionError):
    """A graded function gave a wrong answer; the message says what, not how to fix it."""


@dataclass(frozen=True)
class Call:
    """One call of a graded function: ``function(*args, **kwargs)``."""

    function: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CallError:
    """What a call raised instead of returning: the exception's type and message."""

    kind: str
    message: str


@dataclass(frozen=True)
class Check:
    """A hidden test cell: its grade id, the function it grades, its points and its logic."""

    grade_id: str
    function: str
    points: int
    summary: str
    calls: Callable[[], list[Call]]
    judge: Callable[[list, list[Call]], None]


# ---------------------------------------------------------------- plain values


def perform(call: Call, functions: dict):
    """Run one call on fresh copies of its inputs; return plain output or a CallError."""
    function = functions.get(call.function)
    if not callable(function):
        return CallError("NameError", f"{call.function} is not defined")
    try:
        return to_plain(function(*copy.deepcopy(call.args), **copy.deepcopy(call.kwargs)))
    except Exception as exc:  # the student's bug is the verdict, not a grader crash
        return CallError(type(exc).__name__, str(exc)[:300])


# ---------------------------------------------------------------- the inputs


def _fixture(function: str) -> Call:
    args, kwargs = GRADED[function].fixture_call()
    return Call(function, args, kwargs)


def _dropout_cache(X, parameters, D1, D2, keep_prob):
    """A dropout cache built with given masks (the kit's layer maths, not a graded function)."""
    p = parameters
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(Z1, 0) * D1 / keep_prob
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = np.maximum(Z2, 0) * D2 / keep_prob
    Z3 = p["W3"] @ A2 + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    return (Z1, D1, A1, p["W1"], p["b1"], Z2, D2, A2, p["W2"], p["b2"], Z3, A3, p["W3"], p["b3"])


def fresh_call(function: str, seed: int, layer_dims, m: int, hyper: float) -> Call:
    """A call of ``function`` on a random network ``layer_dims`` with m examples."""
    X, Y, p = network(seed, layer_dims, m)
    if function == COST:
        return Call(COST, (forward_propagation(X, p)[0], Y, p), {"lambd": hyper})
    if function == L2_BACKWARD:
        return Call(L2_BACKWARD, (X, Y, forward_propagation(X, p)[1]), {"lambd": hyper})
    if function == DROP_FORWARD:
        return Call(DROP_FORWARD, (X, p), {"keep_prob": hyper})
    rng = np.random.RandomState(seed + 100)
    D1, D2 = rng.rand(layer_dims[1], m) < hyper, rng.rand(layer_dims[2], m) < hyper
    return Call(DROP_BACKWARD, (X, Y, _dropout_cache(X, p, D1, D2, hyper)), {"keep_prob": hyper})


def twin_of(call: Call, shift: float) -> Call:
    """A call like ``call`` on fresh data of other shapes, its hyperparameter moved by ``shift``."""
    (hyper,) = call.kwargs.values()
    hyper = round(float(hyper) + shift, 6)
    if call.function == DROP_FORWARD:  # enough units to count the kept share
        return fresh_call(DROP_FORWARD, 97, (3, 20, 3, 1), 400, min(1.0, max(0.05, hyper)))
    return fresh_call(call.function, 97, (3, 4, 2, 1), 7, hyper)


def _with_twin(function: str, shift: float) -> Callable[[], list[Call]]:
    return lambda: [_fixture(function), twin_of(_fixture(function), shift)]


def _fresh(function: str, *cases) -> Callable[[], list[Call]]:
    return lambda: [fresh_call(function, *case) for case in cases]


# -------------------------------------------------------------------- judges


def _finding(output, call: Call):
    if isinstance(output, CallError):
        raise CheckFailed(f"the function raised {output.kind}: {output.message}")
    return judge_output(call.function, call.args, call.kwargs, output)


def _identical(a, b) -> bool:
    """Plain outputs equal in structure, shapes and every number."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def each_right(outputs, calls) -> None:
    """Judge: every output is right for its inputs (any valid random masks for dropout)."""
    for number, (output, call) in enumerate(zip(outputs, calls, strict=True), 1):
        if number > 1 and not isinstance(output, CallError) and _identical(output, outputs[0]):
            raise CheckFailed(f"case {number}: the function returns the same output for other inputs "
                              "(is the answer hard-coded?)")  # fmt: skip
        try:
            finding = _finding(output, call)
        except CheckFailed as failure:
            raise CheckFailed(f"case {number}: {failure}") from None
        if not finding.ok:
            raise CheckFailed(f"case {number}: {' '.join(finding.messages[:3])}")


FD_EPSILON = 1e-6


def _judge_finite_differences(outputs, calls):
    """dW must match central differences of the REFERENCE regularized cost, whatever the student's cost."""
    (output,), (call,) = outputs, calls
    if isinstance(output, CallError):
        raise CheckFailed(f"the function raised {output.kind}: {output.message}")
    if not isinstance(output, dict) or not all(k in output for k in ("dW1", "dW2", "dW3")):
        raise CheckFailed("the function must return the gradients dict with dW1, dW2 and dW3")
    (X, Y, cache), lambd = call.args, call.kwargs["lambd"]
    parameters = dict(zip(("W1", "b1", "W2", "b2", "W3", "b3"), (cache[i] for i in (2, 3, 6, 7, 10, 11)),
                          strict=True))  # fmt: skip
    cost = reference_solutions()[COST]
    for key in ("dW3", "dW2", "dW1"):
        W = parameters[key[1:]]
        numeric = np.zeros_like(W)
        for index in np.ndindex(W.shape):
            values = []
            for sign in (1, -1):
                nudged = {k: v.copy() for k, v in parameters.items()}
                nudged[key[1:]][index] += sign * FD_EPSILON
                values.append(cost(forward_propagation(X, nudged)[0], Y, nudged, lambd))
            numeric[index] = (values[0] - values[1]) / (2 * FD_EPSILON)
        analytic = np.asarray(output[key], dtype=float)
        if analytic.shape != numeric.shape:
            raise CheckFailed(f"{key} has shape {analytic.shape}; {key[1:]} has shape {numeric.shape}")
        error = np.linalg.norm(analytic - numeric) / max(
            np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12
        )
        if error > 1e-5:
            raise CheckFailed(f"{key} disagrees with finite differences of the regularized cost "
                              f"(relative difference {error:.1e})")  # fmt: skip


def _judge_drop_rate(outputs, calls):
    """Masks only: 0/1, shaped like the activations, about keep_prob kept, varying; dropped units are 0."""
    (output,), (call,) = outputs, calls
    if isinstance(output, CallError):
        raise CheckFailed(f"the function raised {output.kind}: {output.message}")
    X, p = call.args
    keep_prob = call.kwargs["keep_prob"]
    if not (isinstance(output, tuple) and len(output) == 2 and isinstance(output[1], tuple)
            and len(output[1]) == 14):  # fmt: skip
        raise CheckFailed("the function must return (A3, cache) with the 14-item cache")
    cache = output[1]
    previous_shape = X.shape
    for layer, (d, a) in ((1, (1, 2)), (2, (6, 7))):
        shape = (p[f"W{layer}"].shape[0], X.shape[1])
        D, A = np.asarray(cache[d], dtype=float), np.asarray(cache[a], dtype=float)
        problem = mask_problem(f"D{layer}", D, shape, previous_shape) or statistics_problem(
            f"D{layer}", D, keep_prob
        )
        if problem:
            raise CheckFailed(problem)
        if A.shape != shape or np.any(A[D == 0] != 0):
            raise CheckFailed(f"units dropped by D{layer} must be exactly 0 in A{layer}")


# ------------------------------------------------------------------ registry

STRIPES_M = 12


def _cached_mask_calls():
    """Masks no random draw would give (stripes), so new masks cannot pass."""
    X, Y, p = network(81, (2, 20, 3, 1), STRIPES_M)
    D1 = np.add.outer(np.arange(20), np.arange(STRIPES_M)) % 3 != 0
    D2 = np.array([[True] * STRIPES_M, [False] * STRIPES_M, [True, False] * (STRIPES_M // 2)])
    return [Call(DROP_BACKWARD, (X, Y, _dropout_cache(X, p, D1, D2, 0.7)), {"keep_prob": 0.7})]


CHECKS: dict[str, Check] = {
    check.grade_id: check
    for check in (
        Check("l2_cost_fixture", COST, 3, "the assignment's fixture with lambd = 0.1, and a twin",
              _with_twin(COST, 0.25), each_right),
        Check("l2_cost_fresh_inputs", COST, 4, "fresh inputs of other shapes, values and lambd",
              _fresh(COST, (11, (4, 7, 5, 1), 13, 0.37), (12, (2, 20, 3, 1), 50, 1.3),
                     (13, (3, 2, 6, 1), 8, 0.05)),
              each_right),
        Check("l2_cost_penalty_terms", COST, 3,
              "lambd = 0 gives the cross-entropy; the penalty is linear in lambd and ignores biases",
              lambda: _penalty_calls(), each_right),
        Check("l2_backward_fixture", L2_BACKWARD, 3, "the assignment's fixture with lambd = 0.7, and a twin",
              _with_twin(L2_BACKWARD, 0.25), each_right),
        Check("l2_backward_fresh_inputs", L2_BACKWARD, 3, "fresh inputs of other shapes and lambd",
              _fresh(L2_BACKWARD, (31, (3, 6, 4, 1), 17, 0.45), (32, (2, 20, 3, 1), 40, 2.0)), each_right),
        Check("l2_backward_finite_differences", L2_BACKWARD, 4,
              "dW1, dW2, dW3 agree with finite differences of the regularized cost",
              _fresh(L2_BACKWARD, (41, (2, 4, 3, 1), 6, 0.8)), _judge_finite_differences),
        Check("dropout_forward_fixture", DROP_FORWARD, 2,
              "the assignment's fixture with keep_prob = 0.7 (any valid random masks), and a twin",
              _with_twin(DROP_FORWARD, -0.1), each_right),
        Check("dropout_forward_fresh_inputs", DROP_FORWARD, 2, "fresh inputs of other sizes and keep_prob",
              _fresh(DROP_FORWARD, (51, (2, 20, 3, 1), 60, 0.8), (52, (2, 20, 3, 1), 80, 0.5)), each_right),
        Check("dropout_forward_keep_prob_one", DROP_FORWARD, 2,
              "keep_prob = 1 behaves exactly like no dropout (and keep_prob = 0.9 still drops units)",
              lambda: [Call(DROP_FORWARD, _fixture(DROP_FORWARD).args, {"keep_prob": 1.0}),
                       fresh_call(DROP_FORWARD, 53, (3, 6, 4, 1), 9, 1.0),
                       fresh_call(DROP_FORWARD, 54, (2, 200, 30, 1), 40, 0.9)], each_right),
        Check("dropout_forward_drop_rate", DROP_FORWARD, 2,
              "about 1 - keep_prob of the hidden units are dropped, each unit of each example on its own",
              _fresh(DROP_FORWARD, (61, (2, 20, 3, 1), 3000, 0.6)), _judge_drop_rate),
        Check("dropout_forward_scaling", DROP_FORWARD, 2,
              "the kept units are divided by keep_prob, so the mean activation is kept",
              _fresh(DROP_FORWARD, (62, (2, 20, 3, 1), 3000, 0.6)), each_right),
        Check("dropout_backward_fixture", DROP_BACKWARD, 3,
              "the assignment's fixture with keep_prob = 0.8, and a twin",
              _with_twin(DROP_BACKWARD, -0.1), each_right),
        Check("dropout_backward_fresh_inputs", DROP_BACKWARD, 3, "fresh inputs of other sizes and keep_prob",
              _fresh(DROP_BACKWARD, (71, (2, 20, 3, 1), 19, 0.75), (72, (2, 20, 3, 1), 44, 0.5)), each_right),
        Check("dropout_backward_cached_masks", DROP_BACKWARD, 4,
              "the gradients use the masks D1 and D2 stored in the cache",
              _cached_mask_calls, each_right),
    )
}  # fmt: skip


def _penalty_calls():
    X, Y, p = network(21, (2, 5, 3, 1), 9)
    A3, _ = forward_propagation(X, p)
    big_biases = {k: v * 10 if k.startswith("b") else v for k, v in p.items()}
    return [Call(COST, (A3, Y, p), {"lambd": lambd}) for lambd in (0.0, 1.0, 2.0)] + [
        Call(COST, (A3, Y, big_biases), {"lambd": 1.0})
    ]


def verdict(check: Check, outputs: list, calls: list[Call] | None = None) -> str | None:
    """None when the outputs pass ``check`` (made by ``calls``, default: built anew), else why not."""
    try:
        check.judge(outputs, check.calls() if calls is None else calls)
    except CheckFailed as failure:
        return str(failure)
    except Wrong as failure:
        return failure.finding.messages[0]
    return None


def note(check: Check, outputs: list) -> str:
    """For passing dropout outputs on the notebook's fixture: why they may differ from the printed output."""
    if check.function != DROP_FORWARD:
        return ""
    fixture_args = _fixture(DROP_FORWARD).args
    for output, call in zip(outputs, check.calls(), strict=False):
        same_inputs = len(call.args) == 2 and np.array_equal(call.args[0], fixture_args[0])
        if (
            same_inputs
            and not isinstance(output, CallError)
            and judge_output(call.function, call.args, call.kwargs, output).ok
        ):
            rng = np.random.RandomState(1)
            keep_prob = call.kwargs["keep_prob"]
            U1, U2 = rng.rand(*output[1][1].shape), rng.rand(*output[1][6].shape)
            return stream_note({"keep_prob": keep_prob}, output, (U1 < keep_prob, U2 < keep_prob, U1, U2))
    return ""


def run_check(grade_id: str, namespace: dict) -> None:
    """Run one hidden check against the functions defined in ``namespace`` (a notebook's globals).

    Raises ``CheckFailed`` with a short reason when the function is wrong; prints a note when a
    valid dropout differs from the printed expected output.
    """
    check = CHECKS[grade_id]
    outputs = [perform(call, namespace) for call in check.calls()]
    reason = verdict(check, outputs)
    if reason:
        raise CheckFailed(f"{check.function}: {reason}")
    remark = note(check, outputs)
    if remark:
        print(remark)
