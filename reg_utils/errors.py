"""Input checks that turn bad arguments into one clear sentence.

Every helper that a student calls validates its inputs here, so a wrong
shape or a ``keep_prob`` of 1.5 fails with a message that names the
problem and the fix instead of a NumPy traceback ten frames deep.
"""

from __future__ import annotations

import numpy as np


class RegularizationInputError(ValueError):
    """Raised when a helper receives an argument it cannot work with."""


def as_matrix(name: str, value, rows: int | None = None) -> np.ndarray:
    """Return ``value`` as a 2-D float array, or explain why it is not one."""
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise RegularizationInputError(
                f"{name} must be a NumPy array of numbers; got {type(value).__name__}."
            ) from None
    if value.ndim != 2:
        raise RegularizationInputError(
            f"{name} must be 2-D (features, examples); got shape {value.shape}. "
            f"Reshape it, e.g. {name}.reshape(1, -1) for a row of labels."
        )
    if rows is not None and value.shape[0] != rows:
        raise RegularizationInputError(f"{name} must have {rows} row(s); got shape {value.shape}.")
    return value


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Require two arrays to have the same shape, naming both when they differ."""
    if np.shape(a) != np.shape(b):
        raise RegularizationInputError(
            f"{name_a} has shape {np.shape(a)} but {name_b} has shape {np.shape(b)}; "
            "they must match (one column per example)."
        )


def check_keep_prob(keep_prob) -> float:
    """Return ``keep_prob`` as a float in (0, 1], or raise a helpful error."""
    try:
        value = float(keep_prob)
    except (TypeError, ValueError):
        raise RegularizationInputError(f"keep_prob must be a number in (0, 1]; got {keep_prob!r}.") from None
    if not 0.0 < value <= 1.0:
        raise RegularizationInputError(
            f"keep_prob must be in (0, 1]: it is the probability of KEEPING a unit; got {value}. "
            "Use e.g. keep_prob=0.86 to drop 14% of the hidden units."
        )
    return value


def check_lambd(lambd) -> float:
    """Return ``lambd`` as a non-negative float, or raise a helpful error."""
    try:
        value = float(lambd)
    except (TypeError, ValueError):
        raise RegularizationInputError(f"lambd must be a number >= 0; got {lambd!r}.") from None
    if not value >= 0.0:
        raise RegularizationInputError(f"lambd must be >= 0 (0 switches L2 regularization off); got {value}.")
    return value


def check_parameters(parameters, n_layers: int = 3) -> None:
    """Require W1, b1, ..., W{n}, b{n} with chained shapes."""
    if not isinstance(parameters, dict):
        raise RegularizationInputError(
            f"parameters must be a dict with keys W1, b1, ...; got {type(parameters).__name__}."
        )
    missing = [
        f"{kind}{layer}"
        for layer in range(1, n_layers + 1)
        for kind in "Wb"
        if f"{kind}{layer}" not in parameters
    ]
    if missing:
        raise RegularizationInputError(
            f"parameters is missing {', '.join(missing)}; "
            "build it with initialize_parameters([n_x, 20, 3, 1])."
        )
    for layer in range(1, n_layers + 1):
        W, b = np.shape(parameters[f"W{layer}"]), np.shape(parameters[f"b{layer}"])
        if len(W) != 2 or b != (W[0], 1):
            raise RegularizationInputError(
                f"W{layer} has shape {W} and b{layer} has shape {b}; "
                f"b{layer} must be a column of shape ({W[0] if W else '?'}, 1)."
            )
        if layer > 1:
            prev = np.shape(parameters[f"W{layer - 1}"])[0]
            if W[1] != prev:
                raise RegularizationInputError(
                    f"W{layer} has shape {W} but layer {layer - 1} has {prev} units; "
                    f"W{layer} needs {prev} columns."
                )


def explain_bad_forward_inputs(X, parameters) -> RegularizationInputError:
    """Build the error for a forward pass whose inputs do not fit together.

    Called only after the fast path has failed, so the happy path pays
    nothing for these checks.
    """
    try:
        X = as_matrix("X", X)
        check_parameters(parameters)
        n_in = np.shape(parameters["W1"])[1]
        if X.shape[0] != n_in:
            return RegularizationInputError(
                f"X has {X.shape[0]} features (rows) but W1 expects {n_in}; "
                "X must have shape (features, examples), e.g. train_X of shape (2, 211)."
            )
    except RegularizationInputError as exc:
        return exc
    return RegularizationInputError("X and parameters do not fit together for a forward pass.")
