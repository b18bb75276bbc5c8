"""compute_cost: formula (1) of the assignment, exact, and safe on saturated predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reg_utils import compute_cost


def formula_1(a3, Y):
    """-1/m * sum(y log a + (1 - y) log(1 - a)), written as in the assignment."""
    m = Y.shape[1]
    return -1 / m * np.sum(Y * np.log(a3) + (1 - Y) * np.log(1 - a3))


def unsaturated_case(seed, m):
    rng = np.random.default_rng(seed)
    a3 = rng.uniform(1e-6, 1 - 1e-6, size=(1, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    return a3, Y


@pytest.mark.parametrize("m", [1, 2, 5, 211, 1000, 4099])
@pytest.mark.parametrize("seed", range(4))
def test_equals_formula_1_to_the_last_bit(seed, m):
    a3, Y = unsaturated_case(seed, m)
    cost = compute_cost(a3, Y)
    assert isinstance(cost, float)
    assert cost == formula_1(a3, Y)


def test_hand_computed_value():
    a3 = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1.0, 0.0, 0.0]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert compute_cost(a3, Y) == pytest.approx(expected, rel=1e-15)


def test_does_not_modify_its_inputs():
    a3, Y = unsaturated_case(9, 50)
    a3_before, Y_before = a3.copy(), Y.copy()
    compute_cost(a3, Y)
    np.testing.assert_array_equal(a3, a3_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_saturated_wrong_predictions_cost_a_lot_but_stay_finite_without_warnings():
    a3 = np.array([[0.0, 1.0, 0.7, 0.2]])
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    with np.errstate(all="raise"):  # a log(0) would raise FloatingPointError here
        cost = compute_cost(a3, Y)
    assert math.isfinite(cost)
    assert not math.isnan(cost)
    # Two examples predicted with certainty and wrong: far above any unsaturated cost.
    assert cost > 2 * -math.log(1e-12) / 4
    assert cost > compute_cost(np.array([[1e-9, 1 - 1e-9, 0.7, 0.2]]), Y)


def test_saturated_correct_predictions_cost_nothing():
    a3 = np.array([[1.0, 0.0, 1.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    with np.errstate(all="raise"):
        cost = compute_cost(a3, Y)
    assert math.isfinite(cost)
    assert 0.0 <= cost < 1e-12


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float64, np.float32, bool])
def test_label_dtypes_give_the_float_label_cost(dtype):
    a3, Y = unsaturated_case(5, 211)
    expected = compute_cost(a3, Y)
    labels = Y.astype(dtype)
    assert compute_cost(a3, labels) == expected
    # uint8 labels must not wrap around in 1 - Y.
    assert compute_cost(np.array([[0.25, 0.75]]), np.array([[0, 1]], dtype=dtype)) == (
        pytest.approx(-math.log(0.75), rel=1e-15)
    )
