"""Hidden tests of the four graded functions, written as data the grader can move.

A check is a list of **calls** (which graded function, with which inputs) and
a **judge** that turns the plain outputs of those calls into a verdict. Two
runners use the same checks:

- ``run_check(grade_id, globals())`` inside the notebook's hidden test cells
  (the stock nbgrader path): the calls run in the student's kernel;
- the hardened grader runs the calls in an isolated child process and judges
  the returned arrays in its own process, where the submission cannot reach.

Expected values come from the reference solutions of the source notebook
(``autograder.reference``), never from a second copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reg_utils import compute_cost, forward_propagation

from .grader.wire import to_plain  # one definition: what may cross from student code
from .reference import reference_solutions

RTOL, ATOL = 1e-7, 1e-9


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


def reference_output(call: Call):
    """What the reference solution returns for ``call``."""
    return perform(call, reference_solutions())


# -------------------------------------------------------------- judging helpers


def _fail_on_errors(outputs: list) -> None:
    for output in outputs:
        if isinstance(output, CallError):
            raise CheckFailed(f"the function raised {output.kind}: {output.message}")


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _expect_scalar(output, what: str) -> float:
    if isinstance(output, float):
        return output
    if isinstance(output, np.ndarray) and output.ndim == 0:
        return float(output)
    shape = getattr(output, "shape", None)
    raise CheckFailed(f"{what} must be a single number; got {type(output).__name__} {shape or ''}")


def _expect_grads(output, keys) -> dict:
    if not isinstance(output, dict):
        raise CheckFailed(f"the gradients must be a dict; got {type(output).__name__}")
    missing = [k for k in keys if k not in output]
    if missing:
        raise CheckFailed(f"the gradients dict lacks {', '.join(missing)}")
    return output


def _expect_forward(output) -> tuple:
    if not (isinstance(output, tuple) and len(output) == 2 and isinstance(output[1], tuple)):
        raise CheckFailed("the function must return (A3, cache)")
    if len(output[1]) != 14:
        raise CheckFailed(f"the cache must hold 14 items (Z1, D1, A1, ...); it holds {len(output[1])}")
    return output


def same_as_reference(keys: tuple | None = None) -> Callable:
    """Judge: every call's output equals the reference output (for dict outputs, on ``keys``)."""

    def judge(outputs, calls):
        _fail_on_errors(outputs)
        for number, (output, call) in enumerate(zip(outputs, calls, strict=True), 1):
            expected = reference_output(call)
            if keys is None:
                if not _close(_expect_scalar(output, "the cost"), expected):
                    raise CheckFailed(f"case {number}: the cost differs from the expected value")
                continue
            if isinstance(expected, tuple):  # forward: compare A3 and the cache masks
                output = _expect_forward(output)
                if not _close(output[0], expected[0]):
                    raise CheckFailed(f"case {number}: A3 differs from the expected value")
                continue
            grads = _expect_grads(output, keys)
            wrong = [k for k in keys if not _close(grads[k], expected[k])]
            if wrong:
                raise CheckFailed(f"case {number}: {', '.join(wrong)} differ from the expected values")

    return judge


# ------------------------------------------------------------------ the inputs

GRAD_KEYS = ("dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")


def fresh_network(seed: int, layer_dims, m: int):
    """Random X (n_x, m), 0/1 labels Y (1, m) and parameters for ``layer_dims``."""
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        parameters[f"W{layer}"] = rng.randn(layer_dims[layer], layer_dims[layer - 1]) * 0.8
        parameters[f"b{layer}"] = rng.randn(layer_dims[layer], 1) * 0.3
    X = rng.randn(layer_dims[0], m)
    Y = (rng.rand(1, m) < 0.5).astype(float)
    return X, Y, parameters


def _fixture(name: str):
    import testCases

    return getattr(testCases, f"{name}_test_case")()


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


# ------------------------------------------- compute_cost_with_regularization

COST = "compute_cost_with_regularization"


def _cost_calls_fresh():
    calls = []
    for seed, dims, m, lambd in ((11, (4, 7, 5, 1), 13, 0.37), (12, (2, 20, 3, 1), 50, 1.3),
                                 (13, (3, 2, 6, 1), 8, 0.05)):  # fmt: skip
        X, Y, p = fresh_network(seed, dims, m)
        A3, _ = forward_propagation(X, p)
        calls.append(Call(COST, (A3, Y, p, lambd)))
    return calls


def _cost_calls_penalty():
    X, Y, p = fresh_network(21, (2, 5, 3, 1), 9)
    A3, _ = forward_propagation(X, p)
    big_biases = {k: v * 10 if k.startswith("b") else v for k, v in p.items()}
    return [Call(COST, (A3, Y, p, lambd)) for lambd in (0.0, 1.0, 2.0)] + [
        Call(COST, (A3, Y, big_biases, 1.0))
    ]


def _judge_penalty(outputs, calls):
    _fail_on_errors(outputs)
    costs = [_expect_scalar(o, "the cost") for o in outputs]
    A3, Y = calls[0].args[:2]
    if not np.isclose(costs[0], compute_cost(A3, Y), rtol=RTOL, atol=ATOL):
        raise CheckFailed("with lambd = 0 the cost must equal the cross-entropy cost")
    if not np.isclose(costs[2] - costs[0], 2 * (costs[1] - costs[0]), rtol=1e-6, atol=ATOL):
        raise CheckFailed("the penalty must grow linearly with lambd")
    if not np.isclose(costs[3], costs[1], rtol=RTOL, atol=ATOL):
        raise CheckFailed("the cost changed when only the biases changed: biases are not penalised")
    same_as_reference()(outputs[1:2], calls[1:2])


# ----------------------------------- backward_propagation_with_regularization

L2_BACKWARD = "backward_propagation_with_regularization"


def _l2_backward_calls_fresh():
    calls = []
    for seed, dims, m, lambd in ((31, (3, 6, 4, 1), 17, 0.45), (32, (2, 20, 3, 1), 40, 2.0)):
        X, Y, p = fresh_network(seed, dims, m)
        _, cache = forward_propagation(X, p)
        calls.append(Call(L2_BACKWARD, (X, Y, cache, lambd)))
    return calls


FD_EPSILON = 1e-6
FD_LAMBD = 0.8


def _finite_difference_calls():
    """The backward pass once, then the student's cost at every weight nudged by +-epsilon."""
    X, Y, p = fresh_network(41, (2, 4, 3, 1), 6)
    _, cache = forward_propagation(X, p)
    calls = [Call(L2_BACKWARD, (X, Y, cache, FD_LAMBD))]
    for key in ("W1", "W2", "W3"):
        for index in np.ndindex(p[key].shape):
            for sign in (1, -1):
                nudged = {k: v.copy() for k, v in p.items()}
                nudged[key][index] += sign * FD_EPSILON
                A3, _ = forward_propagation(X, nudged)
                calls.append(Call(COST, (A3, Y, nudged, FD_LAMBD)))
    return calls


def _numeric_gradients(costs: list, W_shapes) -> list:
    """Central differences from the costs at +eps / -eps, one weight after another."""
    values = iter(costs)
    gradients = []
    for shape in W_shapes:
        numeric = np.zeros(shape)
        for index in np.ndindex(shape):
            numeric[index] = (next(values) - next(values)) / (2 * FD_EPSILON)
        gradients.append(numeric)
    return gradients


def _relative_error(a, b) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def _judge_finite_differences(outputs, calls):
    """dW must match finite differences of the student's own cost, or of the reference cost.

    The student's cost makes the check about consistency (a backward pass that
    differentiates the cost it is paired with); the reference cost means a wrong
    cost alone never costs the backward function its points.
    """
    _fail_on_errors(outputs[:1])
    grads = _expect_grads(outputs[0], ("dW1", "dW2", "dW3"))
    cache = calls[0].args[2]
    shapes = [np.shape(cache[i]) for i in (2, 6, 10)]
    candidates = [[reference_output(call) for call in calls[1:]]]
    if not any(isinstance(o, CallError) for o in outputs[1:]):
        try:
            candidates.insert(0, [_expect_scalar(o, "the cost") for o in outputs[1:]])
        except CheckFailed:
            pass
    worst = {}
    for costs in candidates:
        errors = {}
        for key, numeric in zip(("dW1", "dW2", "dW3"), _numeric_gradients(costs, shapes), strict=True):
            analytic = np.asarray(grads[key], dtype=float)
            errors[key] = _relative_error(analytic, numeric) if analytic.shape == numeric.shape else np.inf
        if max(errors.values()) < 1e-5:
            return
        worst = worst or errors
    key = max(worst, key=worst.get)
    raise CheckFailed(
        f"{key} disagrees with finite differences of the regularized cost "
        f"(relative difference {worst[key]:.1e})"
    )


# ------------------------------------------- forward_propagation_with_dropout

DROP_FORWARD = "forward_propagation_with_dropout"


def _forward_calls_fresh():
    calls = []
    for seed, m, keep_prob in ((51, 23, 0.8), (52, 60, 0.5)):
        X, _, p = fresh_network(seed, (2, 20, 3, 1), m)
        calls.append(Call(DROP_FORWARD, (X, p), {"keep_prob": keep_prob}))
    return calls


def _judge_forward_fresh(outputs, calls):
    _fail_on_errors(outputs)
    for number, (output, call) in enumerate(zip(outputs, calls, strict=True), 1):
        A3, cache = _expect_forward(output)
        expected_A3, expected_cache = reference_output(call)
        for name, got, want in (("A3", A3, expected_A3), ("D1", cache[1], expected_cache[1]),
                                ("D2", cache[6], expected_cache[6])):  # fmt: skip
            if not _close(got, want):
                raise CheckFailed(f"case {number}: {name} differs from the expected value")


def _judge_keep_prob_one(outputs, calls):
    _fail_on_errors(outputs)
    A3, cache = _expect_forward(outputs[0])
    X, p = calls[0].args
    if not _close(A3, forward_propagation(X, p)[0]):
        raise CheckFailed("with keep_prob = 1, A3 must equal the output without dropout")
    if not (np.all(np.asarray(cache[1]) == 1) and np.all(np.asarray(cache[6]) == 1)):
        raise CheckFailed("with keep_prob = 1, no unit may be dropped (D1 and D2 all ones)")


STAT_KEEP_PROB = 0.6


def _statistics_calls():
    X, _, p = fresh_network(61, (2, 20, 3, 1), 3000)
    return [Call(DROP_FORWARD, (X, p), {"keep_prob": STAT_KEEP_PROB})]


def _masks(output):
    A3, cache = _expect_forward(output)
    Z1, D1, A1, Z2, D2, A2 = (np.asarray(cache[i], dtype=float) for i in (0, 1, 2, 5, 6, 7))
    for name, mask, activation in (("D1", D1, A1), ("D2", D2, A2)):
        if mask.shape != activation.shape:
            raise CheckFailed(
                f"{name} has shape {mask.shape} but its layer's activations have "
                f"{activation.shape}: every unit of every example needs its own mask entry"
            )
        if not np.isin(mask, (0, 1)).all():
            raise CheckFailed(f"{name} must hold only 0/1 (or False/True) entries")
    return Z1, D1, A1, Z2, D2, A2


def _judge_drop_rate(outputs, calls):
    _fail_on_errors(outputs)
    _, D1, A1, _, D2, A2 = _masks(outputs[0])
    for name, mask, activation in (("D1", D1, A1), ("D2", D2, A2)):
        dropped = 1 - mask.mean()
        if abs(dropped - (1 - STAT_KEEP_PROB)) > 0.03:
            raise CheckFailed(
                f"{name} drops {dropped:.0%} of the units with keep_prob = {STAT_KEEP_PROB}; "
                f"expected about {1 - STAT_KEEP_PROB:.0%}"
            )
        if np.any(activation[mask == 0] != 0):
            raise CheckFailed(f"units dropped by {name} must be exactly 0 in the activations")


def _judge_scaling(outputs, calls):
    _fail_on_errors(outputs)
    Z1, D1, A1, Z2, D2, A2 = _masks(outputs[0])
    for name, Z, mask, A in (("A1", Z1, D1, A1), ("A2", Z2, D2, A2)):
        if not _close(A, np.maximum(Z, 0) * mask / STAT_KEEP_PROB):
            raise CheckFailed(f"{name} must be relu(Z) * mask / keep_prob")
        kept_mean, plain_mean = A.mean(), np.maximum(Z, 0).mean()
        if abs(kept_mean - plain_mean) > 0.05 * plain_mean:
            raise CheckFailed(f"dropout changed the mean of {name}: {plain_mean:.3f} -> {kept_mean:.3f}")


# ------------------------------------------ backward_propagation_with_dropout

DROP_BACKWARD = "backward_propagation_with_dropout"


def _dropout_backward_calls_fresh():
    calls = []
    for seed, m, keep_prob in ((71, 19, 0.75), (72, 44, 0.5)):
        X, Y, p = fresh_network(seed, (2, 20, 3, 1), m)
        rng = np.random.RandomState(seed + 100)
        D1, D2 = rng.rand(20, m) < keep_prob, rng.rand(3, m) < keep_prob
        calls.append(Call(DROP_BACKWARD, (X, Y, _dropout_cache(X, p, D1, D2, keep_prob), keep_prob)))
    return calls


def _cached_mask_calls():
    """Masks no random draw would give (stripes), so new masks cannot pass."""
    X, Y, p = fresh_network(81, (2, 20, 3, 1), 12)
    D1 = np.add.outer(np.arange(20), np.arange(12)) % 3 != 0
    D2 = np.array([[True] * 12, [False] * 12, [True, False] * 6])
    return [Call(DROP_BACKWARD, (X, Y, _dropout_cache(X, p, D1, D2, 0.7), 0.7))]


def _judge_cached_masks(outputs, calls):
    same_as_reference(GRAD_KEYS)(outputs, calls)
    cache = calls[0].args[2]
    grads = outputs[0]
    for name, mask in (("dA1", cache[1]), ("dA2", cache[6])):
        if np.any(np.asarray(grads[name])[~mask] != 0):
            raise CheckFailed(f"{name} must be 0 wherever the cached mask dropped a unit")


# ------------------------------------------------------------------ registry


def _fixture_call(function: str, **kwargs) -> Callable[[], list[Call]]:
    return lambda: [Call(function, _fixture(function), kwargs)]


CHECKS: dict[str, Check] = {
    check.grade_id: check
    for check in (
        Check("l2_cost_fixture", COST, 3, "the assignment's fixture with lambd = 0.1",
              _fixture_call(COST, lambd=0.1), same_as_reference()),
        Check("l2_cost_fresh_inputs", COST, 4, "fresh inputs of other shapes, values and lambd",
              _cost_calls_fresh, same_as_reference()),
        Check("l2_cost_penalty_terms", COST, 3,
              "lambd = 0 gives the cross-entropy; the penalty is linear in lambd and ignores biases",
              _cost_calls_penalty, _judge_penalty),
        Check("l2_backward_fixture", L2_BACKWARD, 3, "the assignment's fixture with lambd = 0.7",
              _fixture_call(L2_BACKWARD, lambd=0.7), same_as_reference(GRAD_KEYS)),
        Check("l2_backward_fresh_inputs", L2_BACKWARD, 3, "fresh inputs of other shapes and lambd",
              _l2_backward_calls_fresh, same_as_reference(GRAD_KEYS)),
        Check("l2_backward_finite_differences", L2_BACKWARD, 4,
              "dW1, dW2, dW3 agree with finite differences of your own regularized cost",
              _finite_difference_calls, _judge_finite_differences),
        Check("dropout_forward_fixture", DROP_FORWARD, 2,
              "the assignment's fixture with keep_prob = 0.7",
              _fixture_call(DROP_FORWARD, keep_prob=0.7), same_as_reference(("A3",))),
        Check("dropout_forward_fresh_inputs", DROP_FORWARD, 2,
              "fresh inputs of other sizes and keep_prob", _forward_calls_fresh,
              _judge_forward_fresh),
        Check("dropout_forward_keep_prob_one", DROP_FORWARD, 2,
              "keep_prob = 1 behaves exactly like no dropout",
              _fixture_call(DROP_FORWARD, keep_prob=1.0), _judge_keep_prob_one),
        Check("dropout_forward_drop_rate", DROP_FORWARD, 2,
              "about 1 - keep_prob of the hidden units are dropped, each example on its own",
              _statistics_calls, _judge_drop_rate),
        Check("dropout_forward_scaling", DROP_FORWARD, 2,
              "the kept units are divided by keep_prob, so the mean activation is kept",
              _statistics_calls, _judge_scaling),
        Check("dropout_backward_fixture", DROP_BACKWARD, 3,
              "the assignment's fixture with keep_prob = 0.8",
              _fixture_call(DROP_BACKWARD, keep_prob=0.8), same_as_reference(GRAD_KEYS)),
        Check("dropout_backward_fresh_inputs", DROP_BACKWARD, 3,
              "fresh inputs of other sizes and keep_prob", _dropout_backward_calls_fresh,
              same_as_reference(GRAD_KEYS)),
        Check("dropout_backward_cached_masks", DROP_BACKWARD, 4,
              "the gradients use the masks D1 and D2 stored in the cache",
              _cached_mask_calls, _judge_cached_masks),
    )
}  # fmt: skip


def verdict(check: Check, outputs: list) -> str | None:
    """None when the outputs pass ``check``, else the reason they fail."""
    try:
        check.judge(outputs, check.calls())
    except CheckFailed as failure:
        return str(failure)
    return None


def run_check(grade_id: str, namespace: dict) -> None:
    """Run one hidden check against the functions defined in ``namespace`` (a notebook's globals).

    Raises ``CheckFailed`` with a short reason when the function is wrong.
    """
    check = CHECKS[grade_id]
    outputs = [perform(call, namespace) for call in check.calls()]
    reason = verdict(check, outputs)
    if reason:
        raise CheckFailed(f"{check.function}: {reason}")
