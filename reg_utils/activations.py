"""The two activations of the network, each a single NumPy/SciPy call.

One call per activation matters: on arrays of a few hundred numbers the
per-call overhead dominates, so ``expit`` (one ufunc) beats the textbook
``1 / (1 + np.exp(-x))`` (four ufuncs) while computing the same function.
Used by every section of the assignment notebook.
"""

import numpy as np
from scipy.special import expit


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), elementwise; saturates without overflow warnings."""
    return expit(x)


def relu(x):
    """Rectified linear unit max(0, x), elementwise."""
    # The scalar first: NumPy's scalar-array loop is ~10% faster than array-scalar here.
    return np.maximum(0, x)
