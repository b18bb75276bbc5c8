"""The two activations of the network, written so every machine agrees on them.

``sigmoid`` is the assignment's expression 1 / (1 + e^-x), evaluated with
NumPy alone. SciPy's ``expit`` is faster per call, but its last bit has
changed between SciPy releases, and 30000 steps of gradient descent turn a
last-bit difference into a visible one (about 4e-9 relative). Keeping the
textbook expression makes the kit and any textbook loop on the same NumPy
compute the same numbers by construction. Used by every section of the
assignment notebook.
"""

import numpy as np

# e^708 is finite, and so is 1 / (1 + e^708), a normal float (3.3e-308). Above
# that the textbook expression overflows with a warning on its way to a value
# below 3.3e-308; capping -x at 708 returns 3.3e-308 there instead, and leaves
# every other result untouched. (e^-x underflowing to 0 for large x is silent
# under NumPy's defaults and gives exactly 1, as it should.)
_LARGEST_EXPONENT = 708.0


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), elementwise; saturates without overflow warnings."""
    t = np.negative(x)
    if type(t) is np.ndarray and t.dtype == np.float64:
        # The training shapes: the same four operations, in place, to skip allocations.
        np.minimum(t, _LARGEST_EXPONENT, out=t)
        np.exp(t, out=t)
        t += 1.0
        return np.divide(1.0, t, out=t)
    return 1.0 / (1.0 + np.exp(np.minimum(t, _LARGEST_EXPONENT)))


def relu(x):
    """Rectified linear unit max(0, x), elementwise."""
    # The scalar first: NumPy's scalar-array loop is ~10% faster than array-scalar here.
    return np.maximum(0, x)
