"""The 3-layer network LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID.

Forward and backward sit side by side so one screen explains one idea.
They keep the assignment's API (a 12-tuple cache, an 11-key gradients
dict) but spend as few NumPy calls as possible per step: on the football
data each call costs a few microseconds whatever its size, so the call
count is the running time. Used by section 1 (the non-regularized
model) and by every training run of the notebook.

Every number is the one the textbook code computes, bit for bit, by
construction: the same NumPy calls on the same operands (``np.dot`` for each
product, the textbook sigmoid expression, each 1/m scaling applied after
its product or sum, as in ``1./m * np.dot(dZ, A.T)``). Gradient descent over
30000 iterations amplifies a last-bit difference about a billion times, so
"the same maths in another order" would not train the same network.
"""

import numpy as np

from .activations import relu, sigmoid
from .errors import explain_bad_forward_inputs


def initialize_parameters(layer_dims):
    """Scaled Gaussian initialisation (1/sqrt(fan-in)), reproducible: seeds NumPy with 3.

    ``layer_dims`` such as [2, 20, 3, 1] gives W{l} of shape
    (layer_dims[l], layer_dims[l-1]) drawn from N(0, 1/layer_dims[l-1])
    and zero biases b{l} of shape (layer_dims[l], 1).
    """
    dims = [int(n) for n in layer_dims]
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(
            f"layer_dims must list at least two positive layer sizes, e.g. [2, 20, 3, 1]; "
            f"got {list(layer_dims)}."
        )
    np.random.seed(3)
    parameters = {}
    for layer in range(1, len(dims)):
        n_now, n_prev = dims[layer], dims[layer - 1]
        parameters[f"W{layer}"] = np.random.randn(n_now, n_prev) / np.sqrt(n_prev)
        parameters[f"b{layer}"] = np.zeros((n_now, 1))
    return parameters


def forward_propagation(X, parameters):
    """Run the network on X (n_x, m); return A3 (1, m) and the cache for backprop.

    The cache is ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``.
    """
    try:
        W1, b1 = parameters["W1"], parameters["b1"]
        W2, b2 = parameters["W2"], parameters["b2"]
        W3, b3 = parameters["W3"], parameters["b3"]
        # A bias of shape (1, 1) or (1, m) would broadcast silently: demand columns.
        if (b1.shape, b2.shape, b3.shape) != ((len(W1), 1), (len(W2), 1), (len(W3), 1)):
            raise ValueError("bias shapes")
        # np.dot would broadcast a scalar X silently; A1 and A2 are 2-D by construction.
        if np.ndim(X) != 2:
            raise ValueError("X must be 2-D")
        Z1 = np.dot(W1, X)
        Z1 += b1
        A1 = relu(Z1)
        Z2 = np.dot(W2, A1)
        Z2 += b2
        A2 = relu(Z2)
        Z3 = np.dot(W3, A2)
        Z3 += b3
    except (AttributeError, KeyError, TypeError, ValueError):
        raise explain_bad_forward_inputs(X, parameters) from None
    A3 = sigmoid(Z3)
    return A3, (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)


def backward_propagation(X, Y, cache):
    """Gradients of the cross-entropy cost from a ``forward_propagation`` cache.

    Returns the dict with keys dZ3 dW3 db3 dA2 dZ2 dW2 db2 dA1 dZ1 dW1 db1.
    The 1/m of the mean multiplies each product and sum after it is
    computed, exactly where ``1./m * np.dot(dZ, A.T)`` applies it.
    """
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    inv_m = 1.0 / X.shape[1]
    dZ3 = A3 - Y
    dW3 = np.dot(dZ3, A2.T) * inv_m
    db3 = np.add.reduce(dZ3, axis=1, keepdims=True) * inv_m

    dA2 = np.dot(W3.T, dZ3)
    dZ2 = _relu_mask(A2)
    dZ2 *= dA2
    dW2 = np.dot(dZ2, A1.T) * inv_m
    db2 = np.add.reduce(dZ2, axis=1, keepdims=True) * inv_m

    dA1 = np.dot(W2.T, dZ2)
    dZ1 = _relu_mask(A1)
    dZ1 *= dA1
    dW1 = np.dot(dZ1, X.T) * inv_m
    db1 = np.add.reduce(dZ1, axis=1, keepdims=True) * inv_m
    return {
        "dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2,
        "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
        "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip


def _relu_mask(A):
    """ReLU's derivative as a new float array: 1.0 where the ReLU output A > 0, 0.0 where A == 0.

    ceil(min(1, A)) is exactly that for A >= 0, which a ReLU output always is.
    Multiplying by this float mask gives the same bits as ``dA * (A > 0)``
    but skips NumPy's bool-to-float casting loop, the slowest step of the
    backward pass.
    """
    mask = np.minimum(1.0, A)
    np.ceil(mask, out=mask)
    return mask


def update_parameters(parameters, grads, learning_rate):
    """One step of gradient descent: p <- p - learning_rate * dp, for every W and b.

    Rebinds the entries of ``parameters`` (the old arrays stay untouched, so
    a caller's copy of the initial weights survives) and returns the dict.
    """
    for key, value in parameters.items():
        parameters[key] = value - learning_rate * grads["d" + key]
    return parameters
