"""Turning a trained network into 0/1 decisions and an accuracy figure.

Used after every training run of the notebook (sections 1-3) and by
``plot_decision_boundary``.
"""

import numpy as np

from .errors import as_matrix, check_same_shape
from .network import forward_propagation


def predict(X, y, parameters):
    """Predict 0/1 labels for X (n_x, m), print the accuracy against y, return the (1, m) labels.

    The accuracy is printed to 12 significant digits, the assignment's format
    (``Accuracy: 0.947867298578``).
    """
    X = as_matrix("X", X)
    y = as_matrix("y", y, rows=1)
    a3, _ = forward_propagation(X, parameters)
    predictions = (a3 > 0.5).astype(int)
    check_same_shape("predictions", predictions, "y", y)
    print(f"Accuracy: {_as_printed(np.mean(predictions == y))}")
    return predictions


def _as_printed(value: float) -> str:
    """12 significant digits, and a float stays a float: 1.0, not 1 (the assignment's format)."""
    text = f"{value:.12g}"
    return text if any(c in text for c in ".en") else text + ".0"


def predict_dec(parameters, X):
    """Return the boolean decisions (1, m) of the network for X (n_x, m), without printing."""
    a3, _ = forward_propagation(as_matrix("X", X), parameters)
    return a3 > 0.5


def accuracy(X, y, parameters):
    """Fraction of the columns of X whose prediction equals y; silent counterpart of ``predict``."""
    a3, _ = forward_propagation(as_matrix("X", X), parameters)
    return float(np.mean((a3 > 0.5) == (as_matrix("y", y, rows=1) == 1)))
