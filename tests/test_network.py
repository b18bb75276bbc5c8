"""The network helpers: initialisation, forward, backward, update and the activations.

``benchmarks.yardstick`` is the textbook implementation written without any
of the kit's shortcuts; it serves as an independent reference here.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import bench_training, yardstick
from reg_utils import (
    backward_propagation,
    compute_cost,
    forward_propagation,
    gradient_descent,
    initialize_parameters,
    load_2D_dataset,
    predict,
    relu,
    sigmoid,
    update_parameters,
)

LAYERS = [2, 20, 3, 1]
PARAM_KEYS = ["W1", "b1", "W2", "b2", "W3", "b3"]
CACHE_ORDER = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
GRAD_KEYS = ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]


def random_network(rng, dims=(3, 5, 4, 1), scale=0.7):
    """Parameters with random (non-zero) biases, so every term of the gradients matters."""
    return {
        key: rng.standard_normal(shape) * scale
        for layer in range(1, len(dims))
        for key, shape in (
            (f"W{layer}", (dims[layer], dims[layer - 1])),
            (f"b{layer}", (dims[layer], 1)),
        )
    }


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


@pytest.fixture
def data():
    return load_2D_dataset()


# --- initialize_parameters ------------------------------------------------------------------


def test_initialize_parameters_seeds_with_3_and_draws_layer_by_layer():
    np.random.seed(12345)  # whatever state the student left the global RNG in
    parameters = initialize_parameters(LAYERS)
    draw_after_init = np.random.rand()

    np.random.seed(3)
    expected = {}
    for layer in range(1, len(LAYERS)):
        n_now, n_prev = LAYERS[layer], LAYERS[layer - 1]
        expected[f"W{layer}"] = np.random.randn(n_now, n_prev) / np.sqrt(n_prev)
        expected[f"b{layer}"] = np.zeros((n_now, 1))
    next_draw = np.random.rand()

    assert list(parameters) == PARAM_KEYS
    for key, value in expected.items():
        assert parameters[key].dtype == np.float64
        assert parameters[key].shape == value.shape
        np.testing.assert_array_equal(parameters[key], value)
    for key in ("b1", "b2", "b3"):
        assert not parameters[key].any()
    # The global stream was seeded with 3 and advanced by exactly those draws.
    assert draw_after_init == next_draw


def test_initialize_parameters_matches_the_yardstick():
    kit, reference = initialize_parameters(LAYERS), yardstick.initialize_parameters(LAYERS)
    assert list(kit) == list(reference)
    for key in kit:
        np.testing.assert_array_equal(kit[key], reference[key])


@pytest.mark.parametrize("dims", [[2], [2, 0, 1], []])
def test_initialize_parameters_rejects_bad_layer_dims(dims):
    with pytest.raises(ValueError, match="at least two positive layer sizes"):
        initialize_parameters(dims)


# --- forward_propagation ------------------------------------------------------------------


def test_forward_returns_a3_and_the_12_tuple_cache_in_order():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 7))
    p = random_network(rng, dims=LAYERS)

    a3, cache = forward_propagation(X, p)

    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = np.maximum(Z2, 0)
    Z3 = p["W3"] @ A2 + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    expected = dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2, Z3=Z3, A3=A3, **p)

    assert a3.shape == (1, 7)
    assert isinstance(cache, tuple)
    assert len(cache) == 12
    for name, value in zip(CACHE_ORDER, cache, strict=True):
        assert value.shape == expected[name].shape, name
        assert_close(value, expected[name])
    assert cache[9] is a3
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert cache[CACHE_ORDER.index(name)] is p[name]
    # Both signs occur in the hidden layers, so the check above covers the ReLU.
    assert (Z1 < 0).any()
    assert (Z1 > 0).any()


def test_forward_does_not_modify_its_inputs():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 9))
    p = random_network(rng, dims=LAYERS)
    X_before, p_before = X.copy(), {k: v.copy() for k, v in p.items()}
    forward_propagation(X, p)
    np.testing.assert_array_equal(X, X_before)
    for key in p:
        np.testing.assert_array_equal(p[key], p_before[key])


# --- backward_propagation -----------------------------------------------------------------


def test_backward_returns_exactly_the_assignment_keys_with_matching_shapes():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((2, 11))
    Y = (rng.random((1, 11)) > 0.5).astype(float)
    p = random_network(rng, dims=LAYERS)
    _, cache = forward_propagation(X, p)
    grads = backward_propagation(X, Y, cache)
    assert list(grads) == GRAD_KEYS
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert grads["d" + key].shape == p[key].shape
    for layer, n in ((1, 20), (2, 3), (3, 1)):
        assert grads[f"dZ{layer}"].shape == (n, 11)
    assert grads["dA1"].shape == (20, 11)
    assert grads["dA2"].shape == (3, 11)


def _cost(X, Y, parameters):
    a3, _ = forward_propagation(X, parameters)
    return compute_cost(a3, Y)


def _gradient_check(backward, eps=1e-6):
    """Relative error between ``backward``'s dW/db and central differences of the kit's cost.

    Uses a small random network whose pre-activations sit far from the ReLU
    kink and whose outputs are unsaturated, so finite differences are accurate.
    """
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 6))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]])
    p = random_network(rng, dims=(3, 5, 4, 1))
    a3, cache = forward_propagation(X, p)
    assert np.abs(cache[0]).min() > 1e3 * eps
    assert np.abs(cache[4]).min() > 1e3 * eps
    assert a3.min() > 1e-3
    assert a3.max() < 1 - 1e-3

    grads = backward(X, Y, cache)
    errors = {}
    for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
        numeric = np.zeros_like(p[key])
        for index in np.ndindex(p[key].shape):
            plus = {k: v.copy() for k, v in p.items()}
            minus = {k: v.copy() for k, v in p.items()}
            plus[key][index] += eps
            minus[key][index] -= eps
            numeric[index] = (_cost(X, Y, plus) - _cost(X, Y, minus)) / (2 * eps)
        analytic = grads["d" + key]
        difference = np.linalg.norm(analytic - numeric)
        errors["d" + key] = difference / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
    return errors


def test_gradients_agree_with_central_finite_differences():
    errors = _gradient_check(backward_propagation)
    assert max(errors.values()) < 1e-7, errors


def _backward_without_first_relu_derivative(X, Y, cache):
    """A classic slip: dZ1 = dA1, as if layer 1 had no ReLU. Layers 2 and 3 stay right."""
    grads = backward_propagation(X, Y, cache)
    dZ1 = grads["dA1"]
    grads["dW1"] = np.dot(dZ1, X.T) / X.shape[1]
    grads["db1"] = np.sum(dZ1, axis=1, keepdims=True) / X.shape[1]
    return grads


def test_gradient_check_catches_a_wrong_backward_pass_and_locates_it():
    """The 1e-7 tolerance above is not too loose to see a real mistake in one layer."""
    errors = _gradient_check(_backward_without_first_relu_derivative)
    assert errors["dW1"] > 1e-2
    assert errors["db1"] > 1e-2
    for key in ("dW2", "db2", "dW3", "db3"):
        assert errors[key] < 1e-7, (key, errors[key])


# --- agreement with the textbook implementation -----------------------------------------------


def _perturbed_parameters(seed):
    rng = np.random.default_rng(seed)
    p = initialize_parameters(LAYERS)
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}


@pytest.mark.parametrize("seed", [None, 0, 1])
def test_forward_backward_cost_agree_with_the_yardstick(data, seed):
    X, Y, _, _ = data
    p = initialize_parameters(LAYERS) if seed is None else _perturbed_parameters(seed)

    a3, cache = forward_propagation(X, p)
    a3_ref, cache_ref = yardstick.forward_propagation(X, p)
    assert_close(a3, a3_ref)
    for name, value, reference in zip(CACHE_ORDER, cache, cache_ref, strict=True):
        assert value.shape == reference.shape, name
        assert_close(value, reference)

    cost, cost_ref = compute_cost(a3, Y), yardstick.compute_cost(a3_ref, Y)
    assert cost == pytest.approx(cost_ref, rel=1e-12, abs=0)

    grads = backward_propagation(X, Y, cache)
    grads_ref = yardstick.backward_propagation(X, Y, cache_ref)
    assert list(grads) == list(grads_ref)
    for key in grads:
        assert grads[key].shape == grads_ref[key].shape, key
        assert_close(grads[key], grads_ref[key])


def test_a_few_training_steps_agree_with_the_yardstick(data):
    X, Y, _, _ = data
    kit, reference = initialize_parameters(LAYERS), yardstick.initialize_parameters(LAYERS)
    for _ in range(25):
        a3, cache = forward_propagation(X, kit)
        a3_ref, cache_ref = yardstick.forward_propagation(X, reference)
        assert compute_cost(a3, Y) == pytest.approx(yardstick.compute_cost(a3_ref, Y), rel=1e-12)
        kit = update_parameters(kit, backward_propagation(X, Y, cache), 0.3)
        reference = yardstick.update_parameters(
            reference, yardstick.backward_propagation(X, Y, cache_ref), 0.3
        )
    assert list(kit) == list(reference)
    for key in kit:
        assert_close(kit[key], reference[key])


@pytest.mark.slow
def test_full_training_run_matches_the_yardstick_and_the_kit_figures(data, capsys):
    """30000 iterations, lr 0.3: the textbook loop's numbers and the notebook's accuracies.

    The kit and the yardstick make the same NumPy calls on the same operands, so
    their parameters agree to the last bit on any machine (the claim of
    reg_utils/network.py). The costs come from two formulas of the
    cross-entropy and agree to rounding.
    """
    X, Y, X_test, Y_test = data
    parameters, costs = gradient_descent(
        X, Y, initialize_parameters(LAYERS), forward_propagation,
        lambda a3, Y, _parameters: compute_cost(a3, Y), backward_propagation,
        learning_rate=0.3, num_iterations=30000, print_every=None,
    )  # fmt: skip
    # The textbook cost takes log(0) once predictions saturate late in training.
    with np.errstate(divide="ignore", invalid="ignore"):
        reference, reference_costs = bench_training.train(yardstick, X, Y, 30000, learning_rate=0.3)
    assert len(costs) == 30
    np.testing.assert_allclose(costs, reference_costs[::1000], rtol=1e-12, atol=0)
    for key in parameters:
        np.testing.assert_array_equal(parameters[key], reference[key])

    # Another CPU's exp or BLAS may round the last bit differently. Measured: a
    # one-ulp bias in every sigmoid output over these 30000 steps moves Z3 by at
    # most 1.1e-6. Every example's Z3 sits 1000 times that far from the decision
    # boundary (Z3 = 0), so the accuracies below hold on any machine.
    for inputs in (X, X_test):
        z3 = forward_propagation(inputs, parameters)[1][8]
        assert np.abs(z3).min() > 1e-3
    capsys.readouterr()
    predict(X, Y, parameters)
    predict(X_test, Y_test, parameters)
    assert capsys.readouterr().out.splitlines() == [
        "Accuracy: 0.957345971564",
        "Accuracy: 0.88",
    ]


# --- update_parameters --------------------------------------------------------------------


def test_update_parameters_steps_against_the_gradient_without_touching_the_originals():
    rng = np.random.default_rng(3)
    p = random_network(rng, dims=LAYERS)
    grads = {"d" + k: rng.standard_normal(v.shape) for k, v in p.items()}
    originals = dict(p)
    snapshots = {k: v.copy() for k, v in p.items()}
    grad_snapshots = {k: v.copy() for k, v in grads.items()}

    result = update_parameters(p, grads, 0.3)

    assert result is p
    assert list(result) == PARAM_KEYS
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(result[key], snapshots[key] - 0.3 * grad_snapshots["d" + key])
        assert result[key] is not originals[key]
        np.testing.assert_array_equal(originals[key], snapshots[key])
        np.testing.assert_array_equal(grads["d" + key], grad_snapshots["d" + key])


def test_update_parameters_after_backward_keeps_the_caller_copy_and_reads_current_grads(data):
    """The usual loop: grads straight from backward_propagation, params from a previous update."""
    X, Y, _, _ = data
    p = initialize_parameters(LAYERS)
    for _ in range(2):
        _, cache = forward_propagation(X, p)
        p = update_parameters(p, backward_propagation(X, Y, cache), 0.3)
    kept = dict(p)
    kept_values = {k: v.copy() for k, v in p.items()}
    _, cache = forward_propagation(X, p)
    grads = backward_propagation(X, Y, cache)
    grads["dW2"] *= 2.0  # an in-place change of a gradient must be honoured
    grads["db1"] = grads["db1"] + 1.0  # and so must a replaced one
    expected = {k: kept_values[k] - 0.05 * grads["d" + k] for k in PARAM_KEYS}

    p = update_parameters(p, grads, 0.05)

    for key in PARAM_KEYS:
        np.testing.assert_array_equal(p[key], expected[key])
        np.testing.assert_array_equal(kept[key], kept_values[key])


# --- activations ----------------------------------------------------------------------------


def test_sigmoid_values_including_large_inputs_without_warnings():
    x = np.array([[-1000.0, -745.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0]])
    # Raise on every flag NumPy reports by default (underflow to 0 is silent there).
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = sigmoid(x)
    assert s.shape == x.shape
    assert s.dtype == np.float64
    assert 0.0 < s[0, 0] < 3.4e-308
    assert 0.0 < s[0, 1] < 3.4e-308
    assert s[0, -1] == 1.0
    assert s[0, 4] == 0.5
    for value, result in zip(x[0, 2:7], s[0, 2:7], strict=True):
        assert result == 1.0 / (1.0 + np.exp(-value))  # the textbook expression, to the last bit
    assert np.all(np.diff(s) >= 0)
    np.testing.assert_allclose(sigmoid(-x[:, 2:7]), 1 - s[:, 2:7], rtol=0, atol=1e-16)
    # Scalars, lists and float32 take the allocating path and give the same values.
    assert sigmoid(1.5) == 1.0 / (1.0 + np.exp(-1.5))
    np.testing.assert_array_equal(sigmoid([[-1.0, 40.0]]), s[:, 3:7:3])
    assert sigmoid(np.float32([[2.0]])).dtype == np.float32


def test_relu_values():
    x = np.array([[-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, 1e300]])
    before = x.copy()
    r = relu(x)
    np.testing.assert_array_equal(r, [[0.0, 0.0, 0.0, 0.0, 1e-300, 3.0, 1e300]])
    assert r.dtype == np.float64
    np.testing.assert_array_equal(x, before)


def test_backward_relu_derivative_at_the_edges():
    """Subnormal, huge and exactly-zero activations: dZ = dA where A > 0 and 0 where A == 0."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((2, 4))
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = random_network(rng, dims=LAYERS)
    _, cache = forward_propagation(X, p)
    cache = list(cache)
    A1 = cache[1].copy()
    A1[0] = [5e-324, 0.0, 1e300, 0.3]
    A1[1] = [0.0, 1e-300, 0.0, 1.0]
    cache[1] = A1
    A2 = cache[5].copy()
    A2[:, 0] = [0.0, 2.5e-320, 7.0]
    cache[5] = A2
    cache = tuple(cache)

    grads = backward_propagation(X, Y, cache)
    reference = yardstick.backward_propagation(X, Y, cache)

    np.testing.assert_array_equal(grads["dZ1"], grads["dA1"] * (A1 > 0))
    np.testing.assert_array_equal(grads["dZ2"], grads["dA2"] * (A2 > 0))
    for key in GRAD_KEYS:
        np.testing.assert_array_equal(grads[key], reference[key])
