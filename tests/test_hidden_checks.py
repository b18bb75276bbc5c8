"""The hidden checks: the reference passes, each mistake fails only its own function's checks."""

from __future__ import annotations

import numpy as np
import pytest
from judge_corpus import score

from autograder.hidden_checks import CHECKS, CallError, CheckFailed, perform, run_check, to_plain, verdict
from autograder.mistakes import CATALOGUE, mistaken_function
from autograder.reference import GRADED_FUNCTIONS, reference_solutions
from reg_utils import backward_propagation, compute_cost, engine, forward_propagation
from reg_utils.errors import RegularizationInputError
from testCases import (
    backward_propagation_with_regularization_test_case,
    compute_cost_with_regularization_test_case,
)

#: Points each mistake keeps on its own function (out of 10), from the checks that still pass.
KEPT_POINTS = {
    "dropout_fwd_no_scaling": 2,  # the masks themselves are right (drop rate check)
    "dropout_fwd_times_keep_prob": 2,
}


def test_the_reference_passes_every_check():
    assert score(reference_solutions()) == dict.fromkeys(GRADED_FUNCTIONS, 10)


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: m.id)
def test_a_mistake_loses_only_its_own_functions_points(mistake):
    functions = dict(reference_solutions(), **{mistake.function: mistaken_function(mistake)})
    expected = dict.fromkeys(GRADED_FUNCTIONS, 10)
    expected[mistake.function] = KEPT_POINTS.get(mistake.id, 0)
    assert score(functions) == expected


def hard_coded(name):
    """A function that returns the fixture's expected answer whatever it is given."""
    answer = perform(next(c for c in CHECKS.values() if c.function == name).calls()[0], reference_solutions())
    return lambda *args, **kwargs: answer


def test_hard_coding_the_visible_outputs_earns_nothing():
    """The memorised answer is right on the fixture (case 1) and fails the twin on other data (case 2)."""
    functions = {name: hard_coded(name) for name in GRADED_FUNCTIONS}
    for gid in (
        "l2_cost_fixture",
        "l2_backward_fixture",
        "dropout_forward_fixture",
        "dropout_backward_fixture",
    ):
        check = CHECKS[gid]
        assert verdict(check, [perform(c, functions) for c in check.calls()]).startswith("case 2: ")
    assert score(functions) == dict.fromkeys(GRADED_FUNCTIONS, 0)


def zero_gradients(X, Y, cache, lambd):
    return {key: np.zeros_like(np.asarray(value)) for key, value in backward_propagation(X, Y, cache).items()}


def test_a_constant_cost_and_zero_gradients_earn_nothing():
    """Finite differences are of the reference cost: self-consistent nonsense gets no credit."""
    functions = dict(reference_solutions(), compute_cost_with_regularization=lambda *a, **k: 1.0,
                     backward_propagation_with_regularization=zero_gradients)  # fmt: skip
    points = score(functions)
    assert points["compute_cost_with_regularization"] == 0
    assert points["backward_propagation_with_regularization"] == 0


def test_a_consistent_but_wrong_pair_loses_the_finite_difference_points():
    """Both missing 1/m: the gradient differentiates its own cost, but not formula (2)."""
    by_id = {m.id: m for m in CATALOGUE}
    functions = dict(reference_solutions())
    for mistake_id in ("l2_cost_missing_1_over_m", "l2_grad_missing_1_over_m"):
        mistake = by_id[mistake_id]
        functions[mistake.function] = mistaken_function(mistake)
    check = CHECKS["l2_backward_finite_differences"]
    assert "disagrees with finite differences" in verdict(
        check, [perform(c, functions) for c in check.calls()]
    )


def test_no_dropout_with_a_made_up_cache_earns_nothing():
    def no_dropout(X, parameters, keep_prob=0.5):
        A3, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, _, W3, b3) = forward_propagation(X, parameters)
        ones1, ones2 = np.ones_like(A1), np.ones_like(A2)
        return A3, (Z1, ones1, A1, W1, b1, Z2, ones2, A2, W2, b2, Z3, A3, W3, b3)

    assert (
        score(dict(reference_solutions(), forward_propagation_with_dropout=no_dropout))[
            "forward_propagation_with_dropout"
        ]
        == 0
    )


def test_extrapolating_from_the_fixtures_printed_values_earns_nothing():
    """The cost at lambd = 0 from the kit plus the printed fixture value, scaled with lambd: linear,
    like the truth, so only a twin with other data and shapes can catch it."""
    A3, Y, parameters = compute_cost_with_regularization_test_case()
    printed_penalty = 1.78648594516 - compute_cost(A3, Y)

    def extrapolated(A3, Y, parameters, lambd):
        return compute_cost(A3, Y) + printed_penalty * lambd / 0.1

    points = score(dict(reference_solutions(), compute_cost_with_regularization=extrapolated))
    assert points["compute_cost_with_regularization"] == 0


def test_the_engine_is_no_oracle_while_grading(monkeypatch):
    """One engine step at learning rate 1 would give dW; under NBGRADER_EXECUTION it refuses."""

    def borrowed_gradients(X, Y, cache, lambd):
        parameters = dict(zip(("W1", "b1", "W2", "b2", "W3", "b3"), (cache[i] for i in (2, 3, 6, 7, 10, 11)),
                              strict=True))  # fmt: skip
        stepped, _ = engine.train(X, Y, parameters, 1.0, 1, lambd=lambd)
        grads = backward_propagation(X, Y, cache)
        grads.update({"d" + k: parameters[k] - stepped[k] for k in ("W1", "W2", "W3")})
        return grads

    functions = dict(reference_solutions(), backward_propagation_with_regularization=borrowed_gradients)
    assert score(functions)["backward_propagation_with_regularization"] == 10  # outside grading it works
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RegularizationInputError, match="switched off while a notebook is graded"):
        engine.Trainer(*backward_propagation_with_regularization_test_case()[:2], {}, learning_rate=1.0)
    assert score(functions)["backward_propagation_with_regularization"] == 0


def test_run_check_raises_a_short_reason():
    functions = dict(reference_solutions(), compute_cost_with_regularization=lambda *a, **k: 0.0)
    with pytest.raises(CheckFailed, match="case 1: The cost is 0 where formula"):
        run_check("l2_cost_fixture", functions)
    with pytest.raises(CheckFailed, match="compute_cost_with_regularization is not defined"):
        run_check("l2_cost_fixture", {})


def test_outputs_are_copied_into_plain_data_only():
    class Liar(float):
        def __eq__(self, other):
            return True

    assert to_plain(Liar(3.0)) == 3.0
    assert type(to_plain(Liar(3.0))) is float
    assert to_plain({"a": (np.ones(2), 1)})["a"][1] == 1.0
    for value in (lambda: 0, object(), np.array(["x"]), {1: 2}, iter([1])):
        with pytest.raises(TypeError):
            to_plain(value)
    assert isinstance(perform(CHECKS["l2_cost_fixture"].calls()[0], {"compute_cost_with_regularization": object}),
                      CallError)  # fmt: skip


def test_inputs_are_copied_so_a_function_cannot_corrupt_them():
    def vandal(A3, Y, parameters, lambd):
        parameters["W1"][:] = 0
        return 1.0

    call = CHECKS["l2_cost_fixture"].calls()[0]
    before = call.args[2]["W1"].copy()
    perform(call, {"compute_cost_with_regularization": vandal})
    assert np.array_equal(call.args[2]["W1"], before)
