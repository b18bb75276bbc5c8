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

# Within |t| <= 708 both e^t and 1 / (1 + e^t) are normal floats. Beyond it
# the textbook expression either gives exactly 1 (t < -708) or a value below
# 3.3e-308 (t > 708), where it also overflows or underflows with a warning;
# clamping t keeps every result within 3.3e-308 of it and raises no flag.
_LARGEST_EXPONENT = 708.0


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), elementwise; saturates without overflow warnings."""
    t = np.maximum(np.minimum(np.negative(x, dtype=float), _LARGEST_EXPONENT), -_LARGEST_EXPONENT)
    return 1.0 / (1.0 + np.exp(t))


def relu(x):
    """Rectified linear unit max(0, x), elementwise."""
    # The scalar first: NumPy's scalar-array loop is ~10% faster than array-scalar here.
    return np.maximum(0, x)
