"""Reading the football dataset (or any .mat file of the same layout).

Used by section "The dataset" of the notebook and by every test that trains.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np
import scipy.io

from .errors import RegularizationInputError

#: Keys and column counts a dataset file must have: 2 features, 1 label.
LAYOUT = {"X": 2, "y": 1, "Xval": 2, "yval": 1}


def default_dataset_path() -> Path:
    """The kit's own generated dataset, shipped inside the package."""
    return Path(str(resources.files("reg_utils.datasets").joinpath("data.mat")))


def load_2D_dataset(path: str | os.PathLike | None = None):
    """Return ``train_X (2, m), train_Y (1, m), test_X (2, n), test_Y (1, n)``.

    Without ``path`` this reads the kit's generated football data (211 train,
    200 test points). Any .mat file with keys X (m, 2), y (m, 1), Xval (n, 2)
    and yval (n, 1), such as the course's original file, works too.
    Labels come back as float 0./1. so that ``-Y`` or ``1 - Y`` cannot wrap
    around the way unsigned integers do.
    """
    path = Path(path) if path is not None else default_dataset_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"No dataset file at {path}. Pass the path of a .mat file with keys "
            "X, y, Xval, yval, or call load_2D_dataset() for the kit's own data."
        )
    try:
        data = scipy.io.loadmat(path)
    except (ValueError, OSError, TypeError, scipy.io.matlab.MatReadError) as exc:
        raise RegularizationInputError(
            f"{path} is not a readable MATLAB .mat file ({exc}). "
            "Regenerate the kit's data with `python -m reg_utils.datasets.generate`."
        ) from None
    arrays = {}
    for key, columns in LAYOUT.items():
        if key not in data:
            raise RegularizationInputError(
                f"{path} has no {key!r} array; a dataset file needs keys {', '.join(LAYOUT)}."
            )
        value = np.asarray(data[key])
        if value.ndim != 2 or value.shape[1] != columns:
            raise RegularizationInputError(
                f"{key!r} in {path} has shape {value.shape}; expected (examples, {columns})."
            )
        arrays[key] = value
    for features, labels in (("X", "y"), ("Xval", "yval")):
        if arrays[features].shape[0] != arrays[labels].shape[0]:
            raise RegularizationInputError(
                f"{features!r} has {arrays[features].shape[0]} rows but {labels!r} has "
                f"{arrays[labels].shape[0]}; each example needs exactly one label."
            )
        if not np.isin(arrays[labels], (0, 1)).all():
            raise RegularizationInputError(f"{labels!r} in {path} must hold only 0 and 1 labels.")
    return tuple(np.ascontiguousarray(arrays[key].T, dtype=float) for key in LAYOUT)


def load_dev_set():
    """Return ``dev_X (2, 200), dev_Y (1, 200)``: a third sample of headers from the kit's generator.

    Drawn from its own seed, so it shares no point with the training or
    test set. Section 4 of the notebook chooses lambd and keep_prob on it.
    """
    from .datasets.generate import make_dev_set

    X, y = make_dev_set()
    return np.ascontiguousarray(X.T, dtype=float), np.ascontiguousarray(y.T, dtype=float)
