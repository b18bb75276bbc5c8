"""Cross-entropy cost, formula (1) of the assignment.

Used by the non-regularized model (section 1) and inside the student's
``compute_cost_with_regularization`` (section 2).
"""

import numpy as np

from .errors import RegularizationInputError, as_matrix, check_same_shape

# log() is evaluated on probabilities clipped into [_TINY, 1 - _EPS]: a sigmoid
# saturated to exactly 0 or 1 then costs about 36.8 per example instead of
# inf/nan plus a RuntimeWarning (which nbgrader would count against a student).
_TINY = 1e-16
_ONE_MINUS_EPS = 1.0 - 2.0**-53


def compute_cost(a3, Y):
    """Mean binary cross-entropy of predictions ``a3`` against 0/1 labels ``Y``.

    Both have shape (1, m). For 0/1 labels the per-example loss is just
    -log of the probability given to the true class, |a3 - (1 - Y)|
    (a3 where Y = 1, 1 - a3 where Y = 0, both exact), so the cost is a
    handful of NumPy calls; the result equals formula (1) to the last bit
    for unsaturated predictions.
    """
    try:
        shape = Y.shape
        plain = a3.shape == shape and len(shape) == 2
    except AttributeError:
        plain = False
    if not plain:
        check_same_shape("a3", a3, "Y", Y)
        a3, Y = as_matrix("a3", a3), as_matrix("Y", Y)
        shape = Y.shape
    m = shape[1]
    if m == 0:
        raise RegularizationInputError("Y has no examples (shape (1, 0)); pass at least one column.")
    if Y.dtype.kind == "b":
        Y = Y.view(np.uint8)  # booleans have no subtraction
    p_true = np.subtract(a3, 1 - Y)
    if p_true.dtype.kind != "f":
        p_true = p_true.astype(float)
    np.absolute(p_true, out=p_true)
    np.maximum(p_true, _TINY, out=p_true)
    np.minimum(p_true, _ONE_MINUS_EPS, out=p_true)
    np.log(p_true, out=p_true)
    return -(1.0 / m) * float(np.add.reduce(p_true, axis=None))
