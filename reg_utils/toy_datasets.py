"""Small 2-D classification sets for the explorer: moons, circles and XOR.

The football data show one kind of overfitting; these show others
(curved, ring-shaped and checkerboard boundaries), with a noise knob that
makes overfitting as easy or hard as the learner wants. Written with
NumPy alone so the kit needs no scikit-learn. Used by the dataset menu of
the explorer (``Explore_regularization.ipynb`` and the assignment's
"Explore" section).
"""

from __future__ import annotations

import numpy as np

from .errors import RegularizationInputError

#: The generated sets, in the order the explorer's menu lists them.
NAMES = ("moons", "circles", "xor")


def _moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    n_top = n // 2
    t_top = rng.uniform(0.0, np.pi, n_top)
    t_bottom = rng.uniform(0.0, np.pi, n - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.stack([1.0 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])
    X = np.concatenate([top, bottom], axis=1)
    # centred on the origin and scaled to about [-1, 1] like the football field
    X = (X - np.array([[0.5], [0.25]])) / 1.5
    y = np.concatenate([np.zeros(n_top), np.ones(n - n_top)])
    return X, y


def _circles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    n_outer = n // 2
    angle = rng.uniform(0.0, 2 * np.pi, n)
    radius = np.where(np.arange(n) < n_outer, 1.0, 0.5)
    X = 0.8 * radius * np.stack([np.cos(angle), np.sin(angle)])
    y = (np.arange(n) >= n_outer).astype(float)
    return X, y


def _xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, (2, n))
    # a small gap around the axes keeps the noiseless quadrants apart
    X += 0.05 * np.sign(X)
    X *= 0.85
    y = (X[0] * X[1] > 0).astype(float)
    return X, y


_MAKERS = {"moons": _moons, "circles": _circles, "xor": _xor}


def make_dataset(name: str, n: int = 400, noise: float = 0.2, train_share: float = 0.5, seed: int = 0):
    """Return ``train_X (2, m), train_Y (1, m), test_X (2, k), test_Y (1, k)`` for set ``name``.

    ``noise`` is the standard deviation of the Gaussian jitter added to
    every point (the sets span about [-1, 1]); ``train_share`` of the ``n``
    shuffled points go to training, the rest to test. Labels are float
    0./1. like ``load_2D_dataset``'s; the same arguments give the same arrays.
    """
    if name not in _MAKERS:
        raise RegularizationInputError(f"Unknown dataset {name!r}; choose one of {', '.join(NAMES)}.")
    n = int(n)
    noise = float(noise)
    train_share = float(train_share)
    if n < 4:
        raise RegularizationInputError(f"n must be at least 4 points; got {n}.")
    if not noise >= 0.0:
        raise RegularizationInputError(f"noise must be >= 0; got {noise}.")
    if not 0.0 < train_share < 1.0:
        raise RegularizationInputError(f"train_share must be strictly between 0 and 1; got {train_share}.")
    rng = np.random.default_rng([NAMES.index(name), int(seed)])
    X, y = _MAKERS[name](rng, n)
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    X, y = X[:, order], y[order]
    n_train = min(max(round(train_share * n), 2), n - 2)
    return (
        np.ascontiguousarray(X[:, :n_train]),
        y[:n_train].reshape(1, -1),
        np.ascontiguousarray(X[:, n_train:]),
        y[n_train:].reshape(1, -1),
    )
