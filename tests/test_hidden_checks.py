"""The hidden checks: the reference passes, each mistake fails only its own function's checks."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden_checks import CHECKS, CallError, CheckFailed, perform, run_check, to_plain, verdict
from autograder.mistakes import CATALOGUE, mistaken_function
from autograder.reference import GRADED_FUNCTIONS, reference_solutions

#: Points each mistake keeps on its own function (out of 10), from the checks that still pass.
KEPT_POINTS = {
    "dropout_fwd_no_scaling": 4,  # keep_prob = 1 and the drop rate are still right
    "dropout_fwd_times_keep_prob": 4,
    "dropout_fwd_one_mask_for_all_examples": 2,  # keep_prob = 1 still right
    "dropout_fwd_layer2_not_dropped": 2,
}


def score(functions: dict) -> dict[str, int]:
    totals = dict.fromkeys(GRADED_FUNCTIONS, 0)
    for check in CHECKS.values():
        if verdict(check, [perform(call, functions) for call in check.calls()]) is None:
            totals[check.function] += check.points
    return totals


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


def test_hard_coding_the_visible_outputs_fails_the_fresh_inputs():
    functions = {name: hard_coded(name) for name in GRADED_FUNCTIONS}
    for check in CHECKS.values():
        reason = verdict(check, [perform(call, functions) for call in check.calls()])
        if check.grade_id.endswith("_fixture"):
            assert reason is None, check.grade_id
        elif "fresh_inputs" in check.grade_id:
            assert reason is not None, check.grade_id


def test_consistent_but_wrong_cost_and_gradient_keep_the_finite_difference_points():
    """Both missing 1/m: the gradient still differentiates its own cost."""
    by_id = {m.id: m for m in CATALOGUE}
    functions = dict(reference_solutions())
    for mistake_id in ("l2_cost_missing_1_over_m", "l2_grad_missing_1_over_m"):
        mistake = by_id[mistake_id]
        functions[mistake.function] = mistaken_function(mistake)
    check = CHECKS["l2_backward_finite_differences"]
    assert verdict(check, [perform(call, functions) for call in check.calls()]) is None
    assert verdict(
        CHECKS["l2_backward_fixture"], [perform(c, functions) for c in CHECKS["l2_backward_fixture"].calls()]
    )


def test_run_check_raises_a_short_reason():
    functions = dict(reference_solutions(), compute_cost_with_regularization=lambda *a, **k: 0.0)
    with pytest.raises(CheckFailed, match="case 1: the cost differs from the expected value"):
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
