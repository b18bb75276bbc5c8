"""The textbook implementation of the network, kept as an independent yardstick.

This is the plain dict-of-arrays code a course would write, one NumPy call
per line of the maths, with no attention paid to speed or to saturated
sigmoids. ``benchmarks.bench_training`` times the kit's helpers against it
and the tests use it as a reference that shares no code with ``reg_utils``.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x):
    """Logistic function, written out."""
    return 1 / (1 + np.exp(-x))


def relu(x):
    """max(0, x), elementwise."""
    return np.maximum(0, x)


def initialize_parameters(layer_dims):
    """W{l} = randn(n_l, n_{l-1}) / sqrt(n_{l-1}) after seeding NumPy with 3; zero biases."""
    np.random.seed(3)  # noqa: NPY002 - the assignment's global RNG
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):
        W = np.random.randn(layer_dims[l], layer_dims[l - 1])  # noqa: NPY002
        parameters["W" + str(l)] = W / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def forward_propagation(X, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID; returns A3 and the 12-tuple cache."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]

    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)

    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost(a3, Y):
    """Cross-entropy cost, formula (1), written the classic way."""
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    cost = 1.0 / m * np.nansum(logprobs)
    return cost


def backward_propagation(X, Y, cache):
    """Gradients of the cost; dict with keys dZ3 dW3 db3 dA2 dZ2 dW2 db2 dA1 dZ1 dW1 db1."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache

    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)

    gradients = {
        "dZ3": dZ3, "dW3": dW3, "db3": db3,
        "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
        "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    return gradients


def update_parameters(parameters, grads, learning_rate):
    """One gradient-descent step on every W and b."""
    n = len(parameters) // 2
    for k in range(n):
        parameters["W" + str(k + 1)] = parameters["W" + str(k + 1)] - learning_rate * grads["dW" + str(k + 1)]
        parameters["b" + str(k + 1)] = parameters["b" + str(k + 1)] - learning_rate * grads["db" + str(k + 1)]
    return parameters
