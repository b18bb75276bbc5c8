"""The learner's own four functions in the explorer: a quick check each, and training with them.

``check_student_functions`` asks the kit's one judge (``testCases.judge``,
the same that the notebook's checks and the hidden tests ask) about each
function on a small network; ``_StudentTrainer`` trains with the ones that
pass. Used by the last section "Explore" of the assignment notebook
(``Regularization.ipynb``), which passes the student's functions to
``show_explorer``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from testCases.contract import COST, DROP_BACKWARD, DROP_FORWARD, GRADED, L2_BACKWARD

from .. import engine
from ..cost import compute_cost
from ..network import backward_propagation, forward_propagation, update_parameters
from .settings import Dataset, Settings

#: The graded functions the explorer trains with, in the order the assignment writes them.
STUDENT_FUNCTION_NAMES = (COST, L2_BACKWARD, DROP_FORWARD, DROP_BACKWARD)


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


def check_student_functions(student_functions: dict) -> dict[str, FunctionCheck]:
    """Check each given student function on a small network with the kit's judge.

    Returns name -> FunctionCheck for the four graded functions; a missing
    function fails with "not given". The explorer trains with a function only
    if its check passes, and shows the message of each one that does not.
    The global random state is left as it was.
    """
    state = np.random.get_state()  # noqa: NPY002 (their dropout reseeds it)
    try:
        return _check_all(student_functions)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_all(student_functions: dict) -> dict[str, FunctionCheck]:
    X, Y, params = _tiny_problem()
    lambd, keep_prob = 0.7, 0.8
    A3, cache = forward_propagation(X, params)
    calls = {
        COST: ((A3, Y, params, lambd), {}),
        L2_BACKWARD: ((X, Y, cache, lambd), {}),
        DROP_FORWARD: ((X, params, keep_prob), {}),
    }
    results: dict[str, FunctionCheck] = {}
    for name in STUDENT_FUNCTION_NAMES:
        function = student_functions.get(name)
        if function is None:
            results[name] = FunctionCheck(name, False, "not given")
            continue
        if not callable(function):
            results[name] = FunctionCheck(name, False, f"{type(function).__name__} is not callable")
            continue
        if name == DROP_BACKWARD:
            dropout_cache = _dropout_cache(student_functions.get(DROP_FORWARD), results, X, params, keep_prob)
            if dropout_cache is None:
                results[name] = FunctionCheck(name, False, "not checked yet: it needs a cache from a working "
                                                           "forward_propagation_with_dropout")  # fmt: skip
                continue
            calls[name] = ((X, Y, dropout_cache, keep_prob), {})
        args, kwargs = calls[name]
        from testCases.judge import examine  # not at import: a grading sandbox hides the judge

        finding = examine(name, function, args, kwargs)
        message = (
            ""
            if finding.ok
            else f"on a small test, {GRADED[name].returns} is not right: " + " ".join(finding.messages)
        )
        results[name] = FunctionCheck(name, finding.ok, message)
    if results[DROP_FORWARD].passed and _same_masks_each_call(student_functions[DROP_FORWARD]):
        results[DROP_FORWARD].note = (
            "It calls np.random.seed(1) on every call (as the assignment asks, so that it "
            "can be graded), so it drops the same units at every iteration. The network "
            "then learns to do without those units for good, instead of learning not to "
            "rely on any single one. Measured with every unit switched on, its train and "
            "test costs can therefore climb while the cost it minimises falls. The kit's "
            "engine draws fresh masks at every iteration, which is real dropout: choose "
            "keep_prob with the sweep, which always uses the engine."
        )
    return results


def _dropout_cache(forward, results, X, params, keep_prob):
    """The student's own dropout cache on the small problem, once their forward pass is right."""
    if DROP_FORWARD not in results or not results[DROP_FORWARD].passed:
        return None
    return forward(X, params, keep_prob)[1]


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
