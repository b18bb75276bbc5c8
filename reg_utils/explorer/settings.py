"""What decides a training run of the explorer: settings, slider stops, data, first weights.

``Settings`` holds every value a run depends on, validates it, and turns
into a URL query and back (the Voila page of ``make explore`` restores
the app from its address). ``load_dataset`` gives the arrays of a
setting, ``initial_parameters`` the assignment's starting weights. Used
by the explorer of ``notebooks/Explore_regularization.ipynb`` and of the
assignment's last section.
"""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass, fields, replace

import numpy as np

from .. import toy_datasets
from ..errors import RegularizationInputError, check_keep_prob, check_lambd
from ..loading import load_2D_dataset, load_dev_set
from ..network import initialize_parameters

#: Lambda slider stops: "off", then roughly even steps on a log scale (1-1.5-2-3-5-7).
LAMBDA_CHOICES = (
    0.0,
    *(round(mantissa * 10.0**exponent, 6) for exponent in range(-3, 1)
      for mantissa in (1, 1.5, 2, 3, 5, 7)),
    10.0,
)  # fmt: skip
LEARNING_RATES = (0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0)
ITERATION_CHOICES = (1000, 2000, 5000, 10000, 20000, 30000, 50000)
REGULARIZERS = ("none", "L2", "dropout", "both")
DATASETS = (("football (the kit's data)", "football"), ("moons", "moons"),
            ("circles", "circles"), ("XOR", "xor"))  # fmt: skip
KEEP_PROB_RANGE = (0.5, 1.0)
#: Sweep grids: lambda in half-decade-ish steps, keep_prob every 0.05.
SWEEP_LAMBDAS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0,
                 5.0, 10.0)  # fmt: skip
SWEEP_KEEP_PROBS = tuple(round(0.5 + 0.05 * k, 2) for k in range(11))

LAYER_DIMS = (2, 20, 3, 1)


def _label(value: float) -> str:
    """Short text for a slider value: 0.7, 0.001, 10."""
    return f"{value:g}"


# ---------------------------------------------------------------------------
# Settings and data.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything that decides a training run; equal settings give equal pictures."""

    dataset: str = "football"
    noise: float = 0.2
    train_share: float = 0.5
    regularizer: str = "L2"
    lambd: float = 0.7
    keep_prob: float = 0.86
    learning_rate: float = 0.3
    num_iterations: int = 30000
    seed: int = 1

    @property
    def effective_lambd(self) -> float:
        """lambda as used in training: 0 unless the regularizer is L2 or both."""
        return self.lambd if self.regularizer in ("L2", "both") else 0.0

    @property
    def effective_keep_prob(self) -> float:
        """keep_prob as used in training: 1 unless the regularizer is dropout or both."""
        return self.keep_prob if self.regularizer in ("dropout", "both") else 1.0

    def validated(self) -> Settings:
        """Return self, or raise RegularizationInputError naming the first bad value."""
        if self.dataset not in {key for _, key in DATASETS}:
            names = ", ".join(key for _, key in DATASETS)
            raise RegularizationInputError(f"dataset must be one of {names}; got {self.dataset!r}.")
        if self.regularizer not in REGULARIZERS:
            raise RegularizationInputError(
                f"regularizer must be one of {', '.join(REGULARIZERS)}; got {self.regularizer!r}."
            )
        check_lambd(self.lambd)
        check_keep_prob(self.keep_prob)
        low, high = KEEP_PROB_RANGE
        if not low <= self.keep_prob <= high:
            raise RegularizationInputError(
                f"keep_prob must be between {low} and {high} in the explorer; got {self.keep_prob}."
            )
        if not 0.0 < self.learning_rate <= 10.0:
            raise RegularizationInputError(f"learning_rate must be in (0, 10]; got {self.learning_rate}.")
        if not 1 <= self.num_iterations <= 200_000:
            raise RegularizationInputError(
                f"num_iterations must be between 1 and 200000; got {self.num_iterations}."
            )
        if not 0.0 <= self.noise <= 1.0:
            raise RegularizationInputError(f"noise must be in [0, 1]; got {self.noise}.")
        if not 0.05 <= self.train_share <= 0.95:
            raise RegularizationInputError(f"train_share must be in [0.05, 0.95]; got {self.train_share}.")
        return self

    def query(self) -> str:
        """The settings as a URL query string (the Voila page restores them from it)."""
        return urllib.parse.urlencode({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_query(cls, query: str, base: Settings | None = None) -> tuple[Settings, list[str]]:
        """Settings from a URL query, plus one message per value that had to be ignored."""
        settings = base or cls()
        problems = []
        types = {f.name: f.type for f in fields(cls)}
        for key, values in urllib.parse.parse_qs(query.lstrip("?")).items():
            if key not in types:
                continue
            raw = values[-1]
            try:
                kind = {"str": str, "int": int}.get(types[key], float)
                candidate = replace(settings, **{key: kind(raw)}).validated()
            except (ValueError, RegularizationInputError) as exc:
                problems.append(f"URL value {key}={raw!r} ignored: {exc}")
                continue
            settings = candidate
        return settings, problems


@dataclass(frozen=True)
class Dataset:
    """Train, test and dev arrays of one dataset setting, (2, m) and (1, m) each.

    The dev set is a further sample from the same source; the sweep chooses
    lambda and keep_prob on it, so that the test set plays no part in a choice.
    """

    name: str
    train_X: np.ndarray
    train_Y: np.ndarray
    test_X: np.ndarray
    test_Y: np.ndarray
    dev_X: np.ndarray
    dev_Y: np.ndarray

    @property
    def limits(self) -> tuple[float, float, float, float]:
        """x and y limits that hold every point with a margin."""
        both = np.concatenate([self.train_X, self.test_X], axis=1)
        (x_lo, y_lo), (x_hi, y_hi) = both.min(axis=1), both.max(axis=1)
        pad_x, pad_y = 0.08 * (x_hi - x_lo), 0.08 * (y_hi - y_lo)
        return x_lo - pad_x, x_hi + pad_x, y_lo - pad_y, y_hi + pad_y


_DATA_CACHE: dict = {}
_DATA_LOCK = threading.Lock()


def load_dataset(settings: Settings) -> Dataset:
    """The arrays for ``settings`` (football data, or a generated set), cached."""
    if settings.dataset == "football":
        key = ("football",)
    else:
        key = (settings.dataset, round(settings.noise, 6), round(settings.train_share, 6))
    with _DATA_LOCK:
        if key not in _DATA_CACHE:
            if settings.dataset == "football":
                arrays = (*load_2D_dataset(), *load_dev_set())
            else:
                arrays = toy_datasets.make_dataset(
                    settings.dataset, noise=settings.noise, train_share=settings.train_share
                )
                # The dev set: 200 more points of the same set, drawn from another seed.
                more = toy_datasets.make_dataset(settings.dataset, n=200, noise=settings.noise, seed=1)
                arrays = (*arrays, np.hstack(more[0::2]), np.hstack(more[1::2]))
            _DATA_CACHE[key] = Dataset(settings.dataset, *arrays)
        return _DATA_CACHE[key]


def initial_parameters() -> dict:
    """The assignment's starting weights, initialize_parameters([2, 20, 3, 1]).

    ``initialize_parameters`` seeds NumPy's global generator; the caller's
    random state is put back afterwards so that building the app does not
    change the learner's random numbers.
    """
    state = np.random.get_state()  # noqa: NPY002
    try:
        return initialize_parameters(list(LAYER_DIMS))
    finally:
        np.random.set_state(state)  # noqa: NPY002
