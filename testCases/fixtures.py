"""The four fixture builders the assignment calls, rebuilt from NumPy's seed-1 stream.

Every array of the original fixtures follows from ``RandomState(1)``:
``X_assess = randn(3, 5)``, then ``W1, b1, W2, b2, W3, b3`` in that order,
then a forward pass rounded to 8 decimals; the dropout masks are
``rand(...) < 0.5`` from a fresh seed-1 stream. A private ``RandomState``
is used so that calling a builder never reseeds the student's global RNG.
"""

import numpy as np

from reg_utils.activations import relu, sigmoid

#: Labels of the five fixture examples.
_LABELS = ((1, 1, 0, 1, 0),)
#: keep_prob the dropout cache was built with (the check then uses 0.8, as the assignment does).
_CACHE_KEEP_PROB = 0.5
_SHAPES = (("W1", (2, 3)), ("b1", (2, 1)), ("W2", (3, 2)), ("b2", (3, 1)),
           ("W3", (1, 3)), ("b3", (1, 1)))  # fmt: skip


def _draw_parameters(rng):
    return {name: rng.randn(*shape) for name, shape in _SHAPES}


def _inputs_and_parameters():
    rng = np.random.RandomState(1)
    X_assess = rng.randn(3, 5)
    return X_assess, _draw_parameters(rng)


def _forward_cache(X, parameters, masks=None):
    """Forward pass of the fixture network; with masks, inverted dropout on layers 1 and 2.

    Returns a dict of every intermediate, rounded to 8 decimals like the original fixtures.
    """
    p = parameters
    values = {"Z1": p["W1"] @ X + p["b1"]}
    values["A1"] = relu(values["Z1"])
    if masks:
        values["D1"] = masks[0]
        values["A1"] = values["A1"] * masks[0] / _CACHE_KEEP_PROB
    values["Z2"] = p["W2"] @ values["A1"] + p["b2"]
    values["A2"] = relu(values["Z2"])
    if masks:
        values["D2"] = masks[1]
        values["A2"] = values["A2"] * masks[1] / _CACHE_KEEP_PROB
    values["Z3"] = p["W3"] @ values["A2"] + p["b3"]
    values["A3"] = sigmoid(values["Z3"])
    values.update(p)
    return {k: v if v.dtype == bool else np.round(v, 8) for k, v in values.items()}


def compute_cost_with_regularization_test_case():
    """Return ``A3, Y_assess, parameters`` for ``compute_cost_with_regularization(..., lambd=0.1)``."""
    X_assess, fixture_parameters = _inputs_and_parameters()
    A3 = _forward_cache(X_assess, fixture_parameters)["A3"]
    parameters = _draw_parameters(np.random.RandomState(1))
    return A3, np.array(_LABELS), parameters


def backward_propagation_with_regularization_test_case():
    """Return ``X_assess, Y_assess, cache`` (12-tuple) for the L2 backward pass, lambd=0.7."""
    X_assess, parameters = _inputs_and_parameters()
    v = _forward_cache(X_assess, parameters)
    order = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
    return X_assess, np.array(_LABELS), tuple(v[k] for k in order)


def forward_propagation_with_dropout_test_case():
    """Return ``X_assess, parameters`` for ``forward_propagation_with_dropout(..., keep_prob=0.7)``."""
    return _inputs_and_parameters()


def backward_propagation_with_dropout_test_case():
    """Return ``X_assess, Y_assess, cache`` (14-tuple with masks D1, D2) for keep_prob=0.8."""
    X_assess, parameters = _inputs_and_parameters()
    rng = np.random.RandomState(1)
    masks = (rng.rand(2, 5) < 0.5, rng.rand(3, 5) < 0.5)
    v = _forward_cache(X_assess, parameters, masks)
    order = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
    return X_assess, np.array(_LABELS), tuple(v[k] for k in order)
