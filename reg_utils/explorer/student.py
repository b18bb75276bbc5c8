"""The learner's own four functions in the explorer: a quick check each, and training with them.

``check_student_functions`` compares each function with the kit's engine
on a small network; ``_StudentTrainer`` trains with the ones that pass.
Used by the last section "Explore" of the assignment notebook
(``Regularization.ipynb``), which passes the student's functions to
``show_explorer``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import engine
from ..cost import compute_cost
from ..network import backward_propagation, forward_propagation, update_parameters
from .settings import Dataset, Settings

#: The four graded functions, in the order the assignment writes them.
STUDENT_FUNCTION_NAMES = (
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
)


@dataclass
class FunctionCheck:
    """Outcome of checking one student function: passed, and why not."""

    name: str
    passed: bool
    message: str = ""
    note: str = ""


def _tiny_problem():
    rng = np.random.default_rng(2024)
    dims = (2, 5, 3, 1)
    X = rng.standard_normal((2, 7))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]])
    params = {}
    for layer in range(1, 4):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1]))
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    return X, Y, params


_GRAD_KEYS = ("dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")


def _engine_gradients(X, Y, params, lambd=0.0, keep_prob=1.0, masks=None) -> dict:
    """dW/db of one step, recovered from the engine's update with learning rate 1."""
    stepped, _ = engine.train(X, Y, params, 1.0, 1, lambd=lambd, keep_prob=keep_prob, masks=masks)
    return {"d" + key: params[key] - stepped[key] for key in params}


def _engine_cost(X, Y, params, lambd=0.0, keep_prob=1.0, masks=None) -> float:
    _, costs = engine.train(
        X, Y, params, 0.0, 1, lambd=lambd, keep_prob=keep_prob, masks=masks, record_every=1
    )
    return costs[0]


def _compare_gradients(grads, expected, params) -> str:
    if not isinstance(grads, dict):
        return f"it returned {type(grads).__name__}, not a dict of gradients"
    missing = [key for key in _GRAD_KEYS if key not in grads]
    if missing:
        return f"the gradients dict lacks {', '.join(missing)}"
    for key in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        got = np.asarray(grads[key], dtype=float)
        want = expected[key]
        if got.shape != want.shape:
            return f"{key} has shape {got.shape}; {key[1:]} has shape {params[key[1:]].shape}"
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            worst = float(np.max(np.abs(got - want)))
            return f"{key} differs from the kit's engine by up to {worst:.3g}"
    return ""


def check_student_functions(student_functions: dict) -> dict[str, FunctionCheck]:
    """Check each given student function on a small network against the kit's engine.

    Returns name -> FunctionCheck for the four graded functions; a missing
    function fails with "not given". The explorer trains with a function only
    if its check passes, and shows the message of each one that does not.
    """
    state = np.random.get_state()  # noqa: NPY002 (their dropout reseeds it)
    try:
        return _check_all(student_functions)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_all(student_functions: dict) -> dict[str, FunctionCheck]:
    X, Y, params = _tiny_problem()
    lambd, keep_prob = 0.7, 0.8
    results: dict[str, FunctionCheck] = {}

    def run(name: str, check: Callable[[Callable], str], note: str = "") -> None:
        function = student_functions.get(name)
        if function is None:
            results[name] = FunctionCheck(name, False, "not given")
            return
        if not callable(function):
            results[name] = FunctionCheck(name, False, f"{type(function).__name__} is not callable")
            return
        try:
            message = check(function)
        except Exception as exc:  # a student's bug can raise anything
            message = f"it raised {type(exc).__name__}: {exc}"
        results[name] = FunctionCheck(name, not message, message, note if not message else "")

    def cost_check(function):
        A3, _ = forward_propagation(X, params)
        value = function(A3, Y, params, lambd)
        if value is None:
            return "it returned None (not written yet?)"
        value = float(np.squeeze(value))
        want = _engine_cost(X, Y, params, lambd=lambd)
        if not math.isclose(value, want, rel_tol=1e-7, abs_tol=1e-9):
            return f"on a small test it returns {value:.6g} where the cost with L2 is {want:.6g}"
        return ""

    def backward_l2_check(function):
        _, cache = forward_propagation(X, params)
        grads = function(X, Y, cache, lambd)
        if grads is None:
            return "it returned None (not written yet?)"
        return _compare_gradients(grads, _engine_gradients(X, Y, params, lambd=lambd), params)

    dropout_cache: list = []

    def forward_dropout_check(function):
        out = function(X, params, keep_prob)
        if out is None:
            return "it returned None (not written yet?)"
        A3, cache = out
        if len(cache) != 14:
            return (
                f"its cache has {len(cache)} entries; it should be "
                "(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)"
            )
        D1, D2 = np.asarray(cache[1]), np.asarray(cache[6])
        if D1.shape != (5, 7) or D2.shape != (3, 7):
            return f"D1 and D2 have shapes {D1.shape} and {D2.shape}; expected (5, 7) and (3, 7)"
        if not (np.isin(D1, (0, 1)).all() and np.isin(D2, (0, 1)).all()):
            return "D1 and D2 must hold only 0 and 1 (keep or drop)"
        if D1.all() and D2.all():
            return "it keeps every unit at keep_prob=0.8; D1 and D2 should drop about 20%"
        A3 = np.asarray(A3, dtype=float)
        if A3.shape != (1, 7):
            return f"A3 has shape {A3.shape}; expected (1, 7)"
        masks = (D1[None], D2[None])
        want = _engine_cost(X, Y, params, keep_prob=keep_prob, masks=masks)
        got = compute_cost(A3, Y)
        if not math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-9):
            return (
                "with its own masks D1, D2 its A3 differs from inverted dropout on hidden "
                f"layers 1 and 2 (cost {got:.6g} instead of {want:.6g})"
            )
        dropout_cache.append((cache, masks))
        return ""

    def backward_dropout_check(function):
        if not dropout_cache:
            return "not checked yet: it needs a cache from a working forward_propagation_with_dropout"
        cache, masks = dropout_cache[0]
        grads = function(X, Y, cache, keep_prob)
        if grads is None:
            return "it returned None (not written yet?)"
        want = _engine_gradients(X, Y, params, keep_prob=keep_prob, masks=masks)
        return _compare_gradients(grads, want, params)

    run("compute_cost_with_regularization", cost_check)
    run("backward_propagation_with_regularization", backward_l2_check)
    reseeds = _same_masks_each_call(student_functions.get("forward_propagation_with_dropout"))
    run(
        "forward_propagation_with_dropout",
        forward_dropout_check,
        note=(
            "It calls np.random.seed(1) on every call (as the assignment asks, so that it "
            "can be graded), so it drops the same units at every iteration; the kit's "
            "engine draws fresh masks at every iteration, which is real dropout."
        )
        if reseeds
        else "",
    )
    run("backward_propagation_with_dropout", backward_dropout_check)
    return results


def _same_masks_each_call(function) -> bool:
    if not callable(function):
        return False
    X, _, params = _tiny_problem()
    try:
        first = np.asarray(function(X, params, 0.8)[1][1])
        second = np.asarray(function(X, params, 0.8)[1][1])
    except Exception:  # reported by the real check
        return False
    return first.shape == second.shape and bool(np.array_equal(first, second))


class _StudentTrainer:
    """Trains with the learner's own functions at NumPy speed; engine.Trainer's interface.

    L2 uses their cost and backward; dropout their forward and backward;
    "both" adds the L2 weight decay lambd/m * W to their dropout gradients.
    The clean train/test costs of the curves come from the kit.
    """

    def __init__(self, functions, data: Dataset, params, settings: Settings, record_every):
        self.functions = functions
        self.data = data
        self.params = {key: value.copy() for key, value in params.items()}
        self.lambd = settings.effective_lambd
        self.keep_prob = settings.effective_keep_prob
        self.learning_rate = settings.learning_rate
        self.record_every = record_every
        self.iteration = 0
        self.rows: list[tuple] = []

    @property
    def parameters(self) -> dict:
        return {key: value.copy() for key, value in self.params.items()}

    @property
    def history(self) -> np.ndarray:
        return np.array(self.rows, dtype=float).reshape(-1, 4)

    def step(self, n: int) -> int:
        f = self.functions
        X, Y = self.data.train_X, self.data.train_Y
        m = X.shape[1]
        dropout, l2 = self.keep_prob < 1.0, self.lambd > 0.0
        for _ in range(n):
            p = self.params
            if dropout:
                a3, cache = f["forward_propagation_with_dropout"](X, p, self.keep_prob)
            else:
                a3, cache = forward_propagation(X, p)
            if self.iteration % self.record_every == 0:
                if l2:
                    cost = f["compute_cost_with_regularization"](a3, Y, p, self.lambd)
                else:
                    cost = compute_cost(a3, Y)
                self.rows.append((self.iteration, float(np.squeeze(cost)),
                                  *_clean_costs(p, self.data)))  # fmt: skip
            if dropout:
                grads = dict(f["backward_propagation_with_dropout"](X, Y, cache, self.keep_prob))
                if l2:  # weight decay, the part of the L2 gradient their dropout code lacks
                    for layer in (1, 2, 3):
                        grads[f"dW{layer}"] = grads[f"dW{layer}"] + (self.lambd / m) * p[f"W{layer}"]
            elif l2:
                grads = f["backward_propagation_with_regularization"](X, Y, cache, self.lambd)
            else:
                grads = backward_propagation(X, Y, cache)
            self.params = update_parameters(p, grads, self.learning_rate)
            self.iteration += 1
        return n


def _clean_costs(params, data: Dataset) -> tuple[float, float]:
    """Cross-entropy of the network without dropout on the train and test sets."""
    return (
        compute_cost(engine.predict_proba(data.train_X, params), data.train_Y),
        compute_cost(engine.predict_proba(data.test_X, params), data.test_Y),
    )
