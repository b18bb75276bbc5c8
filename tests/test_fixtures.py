"""The four fixture builders reproduce the assignment's tuples and literal numbers."""

from __future__ import annotations

import numpy as np
import pytest

from testCases import (
    backward_propagation_with_dropout_test_case,
    backward_propagation_with_regularization_test_case,
    compute_cost_with_regularization_test_case,
    forward_propagation_with_dropout_test_case,
)

BUILDERS = (
    compute_cost_with_regularization_test_case,
    backward_propagation_with_regularization_test_case,
    forward_propagation_with_dropout_test_case,
    backward_propagation_with_dropout_test_case,
)
PARAMETER_SHAPES = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1), "W3": (1, 3),
                    "b3": (1, 1)}  # fmt: skip
CACHE_12 = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
CACHE_14 = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
LABELS = [[1, 1, 0, 1, 0]]
X_FIRST_ROW = [1.6243453636632417, -0.6117564136500754, -0.5281717522634557,
               -1.0729686221561705, 0.8654076293246785]  # fmt: skip


def check_parameters(parameters):
    assert list(parameters) == list(PARAMETER_SHAPES)
    for key, shape in PARAMETER_SHAPES.items():
        assert parameters[key].shape == shape, key
        assert parameters[key].dtype == np.float64


def test_compute_cost_with_regularization_case():
    A3, Y_assess, parameters = compute_cost_with_regularization_test_case()
    np.testing.assert_array_equal(A3, [[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    np.testing.assert_array_equal(Y_assess, LABELS)
    assert Y_assess.dtype.kind == "i"
    check_parameters(parameters)
    np.testing.assert_array_equal(
        parameters["W1"],
        [[1.6243453636632417, -0.6117564136500754, -0.5281717522634557],
         [-1.0729686221561705, 0.8654076293246785, -2.3015386968802827]],
    )  # fmt: skip
    np.testing.assert_array_equal(parameters["b3"], [[-1.1006191772129212]])


def test_backward_propagation_with_regularization_case():
    X_assess, Y_assess, cache = backward_propagation_with_regularization_test_case()
    assert X_assess.shape == (3, 5)
    np.testing.assert_array_equal(X_assess[0], X_FIRST_ROW)
    np.testing.assert_array_equal(Y_assess, LABELS)
    assert isinstance(cache, tuple)
    assert len(cache) == 12
    values = dict(zip(CACHE_12, cache, strict=True))
    np.testing.assert_array_equal(
        values["Z3"], [[-0.3771104, -4.10060224, -1.60539468, -2.18416951, -0.3771104]]
    )
    np.testing.assert_array_equal(
        values["W1"],
        [[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]],
    )
    check_parameters({k: values[k] for k in PARAMETER_SHAPES})
    for name, shape in (("Z1", (2, 5)), ("A1", (2, 5)), ("Z2", (3, 5)), ("A2", (3, 5)),
                        ("Z3", (1, 5)), ("A3", (1, 5))):  # fmt: skip
        assert values[name].shape == shape, name
    # The cache is a forward pass of X_assess, rounded to 8 decimals like the original.
    np.testing.assert_allclose(values["A1"], np.maximum(values["Z1"], 0), atol=0)
    np.testing.assert_allclose(values["Z1"], values["W1"] @ X_assess + values["b1"], atol=1e-7)
    np.testing.assert_allclose(values["A3"], 1 / (1 + np.exp(-values["Z3"])), atol=1e-8)


def test_forward_propagation_with_dropout_case():
    X_assess, parameters = forward_propagation_with_dropout_test_case()
    assert X_assess.shape == (3, 5)
    np.testing.assert_array_equal(X_assess[0], X_FIRST_ROW)
    check_parameters(parameters)
    np.testing.assert_array_equal(parameters["b3"], [[-0.01266459891890136]])


def test_backward_propagation_with_dropout_case():
    X_assess, Y_assess, cache = backward_propagation_with_dropout_test_case()
    assert X_assess.shape == (3, 5)
    np.testing.assert_array_equal(Y_assess, LABELS)
    assert isinstance(cache, tuple)
    assert len(cache) == 14
    values = dict(zip(CACHE_14, cache, strict=True))
    assert values["D1"].dtype == np.bool_
    assert values["D2"].dtype == np.bool_
    np.testing.assert_array_equal(
        values["D1"], [[True, False, True, True, True], [True, True, True, True, False]]
    )
    np.testing.assert_array_equal(
        values["D2"],
        [[True, False, True, False, True], [False, True, False, True, True],
         [False, False, True, False, False]],
    )  # fmt: skip
    np.testing.assert_array_equal(
        values["A1"],
        [[0.0, 0.0, 4.27989081, 5.21401307, 0.0], [0.0, 8.32019881, 1.58102041, 2.92987024, 0.0]],
    )
    np.testing.assert_array_equal(
        values["A3"], [[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]]
    )
    np.testing.assert_array_equal(
        values["Z3"], [[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]]
    )
    check_parameters({k: values[k] for k in PARAMETER_SHAPES})
    # Dropped units are zero in the activations.
    assert not values["A1"][~values["D1"]].any()
    assert not values["A2"][~values["D2"]].any()


def rng_state():
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return name, keys.copy(), pos, has_gauss, cached


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda f: f.__name__)
def test_builders_leave_the_global_rng_alone(builder):
    np.random.seed(2024)
    np.random.randn()  # leaves a cached Gaussian in the state as well
    before = rng_state()
    builder()
    after = rng_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda f: f.__name__)
def test_builders_return_fresh_equal_arrays(builder):
    """Calling a builder twice gives equal data, and mutating one result does not leak."""
    first, second = builder(), builder()

    def arrays(result):
        for item in result:
            if isinstance(item, dict):
                yield from item.values()
            elif isinstance(item, tuple):
                yield from item
            else:
                yield item

    pairs = list(zip(arrays(first), arrays(second), strict=True))
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)
    snapshots = [b.copy() for _, b in pairs]
    for a, _ in pairs:
        a[...] = 0
    for (_, b), snapshot in zip(pairs, snapshots, strict=True):
        np.testing.assert_array_equal(b, snapshot)
    assert any(s.any() for s in snapshots)
