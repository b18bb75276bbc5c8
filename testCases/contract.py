"""Each graded function declared once: its signature, fixture, what it returns and who judges it.

Everything else derives from these declarations: the visible checks, the
hidden tests' verdicts, the explorer's student mode, the reference list of
graded names. Adding a graded function means adding one ``Graded`` here (and
its notebook cells and hidden tests).

Judges are named, not imported: this module is part of ``import testCases``,
which a grading sandbox must offer, while the judge modules are hidden there
(they compute the right answers; see ``autograder/grader/sandbox.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import fixtures

if TYPE_CHECKING:
    from .findings import Finding

#: The keys of a gradients dict, in the order ``backward_propagation`` builds them.
GRAD_KEYS = ("dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")


@dataclass(frozen=True)
class Graded:
    """One graded function: how it is called and how its output is judged."""

    name: str
    parameters: tuple[str, ...]  # the signature, in order
    fixture: Callable[[], tuple]  # positional inputs of the assignment's visible test
    fixture_kwargs: dict  # the hyperparameter the visible test passes by name
    judge_path: str  # "module:function" in testCases, (named inputs, output) -> Finding
    returns: str  # what a right answer is, in words
    grad_keys: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict)
    recheck_kwargs: dict = field(default_factory=dict)  # a second hyperparameter to tell apart look-alikes
    random_free: bool = False  # a right answer draws no random numbers (checked by calling it twice)

    def inputs(self, args: tuple, kwargs: dict) -> dict:
        """The call's inputs by parameter name, defaults filled in."""
        named = dict(self.defaults)
        named.update(zip(self.parameters, args, strict=False))
        named.update(kwargs)
        return named

    def judge(self, inputs: dict, output) -> Finding:
        """The verdict on ``output`` given the call's named inputs (imports the judge on first use)."""
        module, function = self.judge_path.split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), function)(inputs, output)

    def fixture_call(self) -> tuple[tuple, dict]:
        return tuple(self.fixture()), dict(self.fixture_kwargs)


COST = "compute_cost_with_regularization"
L2_BACKWARD = "backward_propagation_with_regularization"
DROP_FORWARD = "forward_propagation_with_dropout"
DROP_BACKWARD = "backward_propagation_with_dropout"

GRADED: dict[str, Graded] = {
    g.name: g
    for g in (
        Graded(COST, ("A3", "Y", "parameters", "lambd"),
               fixtures.compute_cost_with_regularization_test_case, {"lambd": 0.1}, "l2_judge:judge_cost",
               "its cost with L2 regularization", recheck_kwargs={"lambd": 0.37}),
        Graded(L2_BACKWARD, ("X", "Y", "cache", "lambd"),
               fixtures.backward_propagation_with_regularization_test_case, {"lambd": 0.7},
               "l2_judge:judge_l2_backward", "its gradients dict", GRAD_KEYS, recheck_kwargs={"lambd": 0.37}),
        Graded(DROP_FORWARD, ("X", "parameters", "keep_prob"),
               fixtures.forward_propagation_with_dropout_test_case, {"keep_prob": 0.7},
               "dropout_judge:judge_dropout_forward", "its pair (A3, cache)", defaults={"keep_prob": 0.5}),
        Graded(DROP_BACKWARD, ("X", "Y", "cache", "keep_prob"),
               fixtures.backward_propagation_with_dropout_test_case, {"keep_prob": 0.8},
               "dropout_judge:judge_dropout_backward", "its gradients dict", GRAD_KEYS, random_free=True),
    )
}  # fmt: skip

#: The graded functions, in the order the notebook introduces them.
GRADED_NAMES = tuple(GRADED)


def network(seed: int, layer_dims, m: int):
    """Random X (n_x, m), 0/1 labels Y (1, m) and parameters for ``layer_dims``: inputs for any check."""
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        parameters[f"W{layer}"] = rng.randn(layer_dims[layer], layer_dims[layer - 1]) * 0.8
        parameters[f"b{layer}"] = rng.randn(layer_dims[layer], 1) * 0.3
    X = rng.randn(layer_dims[0], m)
    Y = (rng.rand(1, m) < 0.5).astype(float)
    return X, Y, parameters
