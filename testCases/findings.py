"""What a judge says about one output, and the small numeric helpers every judge shares.

A ``Finding`` is the whole verdict on one call of a graded function: right or
wrong, the sentences a student reads, and an optional note for an answer
that is right but differs from the printed expected output (another random
stream). Sentences are plain text in the assignment's words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Agreement asked of a right answer: float64 maths on 8-decimal fixtures.
RTOL, ATOL = 1e-7, 1e-9


@dataclass(frozen=True)
class Finding:
    """Verdict on one output: ``ok``, the sentences that say what is off, and a note."""

    ok: bool
    messages: tuple[str, ...] = ()
    note: str = ""


RIGHT = Finding(True)


def wrong(*messages: str) -> Finding:
    """A failing finding; repeated sentences are dropped."""
    return Finding(False, tuple(dict.fromkeys(m for m in messages if m)))


class Wrong(Exception):
    """Raised inside a judge to stop at the first thing that is off."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.finding = wrong(*messages)


def close(a, b, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and values within tolerance (False for anything not numeric)."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):  # huge or infinite values: a verdict, never a warning
        tolerance = atol + rtol * np.abs(b)  # allclose's own test where b is finite, without its overhead
        if np.all(np.abs(a - b) <= tolerance) and np.isfinite(tolerance).all():
            return True
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))  # NaN, inf, or not close: allclose decides


def array(value, what: str) -> np.ndarray:
    """``value`` as a float array, or ``Wrong`` naming ``what`` when it is not numeric."""
    if value is None:
        raise Wrong(f"{what} is None: a line that should compute it is missing or returns nothing.")
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Wrong(f"{what} must be a NumPy array of numbers; it is a {type(value).__name__}.") from None
    if out.dtype == object:
        raise Wrong(f"{what} must be a NumPy array of numbers.")
    return out


def shape_of(value) -> str:
    return str(tuple(np.shape(value)))


def shape_mismatches(grads: dict, **differentiated) -> list[str]:
    """One clause per gradient whose shape differs from what it differentiates (dW1=W1, ...)."""
    return [f"{key} has shape {shape_of(grads[key])} but {key[1:]} has shape {shape_of(value)}"
            for key, value in differentiated.items() if grads[key].shape != np.shape(value)]  # fmt: skip


def number(x: float) -> str:
    """A number as a student reads it: 6 significant digits."""
    return f"{float(x):.6g}"


def returned(value) -> str:
    """How to describe what came back, for a sentence about the wrong type."""
    if value is None:
        return "it returned None (is the `return` line missing?)"
    if isinstance(value, tuple | list):
        return f"it returned a {type(value).__name__} of {len(value)} items"
    if isinstance(value, np.ndarray):
        return f"it returned an array of shape {value.shape}"
    return f"it returned a {type(value).__name__}"
