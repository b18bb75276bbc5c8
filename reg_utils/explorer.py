"""The live regularization explorer: sliders for lambda and keep_prob that retrain and redraw.

The assignment shows three frozen pictures (no regularization, L2 with
lambda 0.7, dropout with keep_prob 0.86). Here the learner drags lambda
or keep_prob and watches the network of the assignment ([2, 20, 3, 1],
learning rate 0.3, 30000 iterations) retrain from the same initial
weights: the boundary stops chasing noisy points, the weights shrink,
test accuracy rises and then falls once the model gets too simple.

``show_explorer()`` builds and displays the app. It is used by
``notebooks/Explore_regularization.ipynb`` (also served by ``make explore``
through Voila) and by the last section "Explore" of the assignment, which
passes the student's four functions in ``student_functions``.

How it stays live: every control change bumps a generation counter and
hands a job to a training thread, which runs the compiled engine
(``reg_utils.engine``, GIL released) in chunks and checks the counter
between chunks (~40 ms each), so a stale run stops at once. A drawing
thread renders the newest snapshot with matplotlib's object API on Agg
canvases (never pyplot, always under one lock) into PNG bytes for
``ipywidgets.Image``, and publishes it only if its generation is still
the current one: the picture at rest always belongs to the values shown.
"""

from __future__ import annotations

import html
import io
import math
import os
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import ipywidgets as widgets
import matplotlib
import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from . import engine, toy_datasets
from .cost import compute_cost
from .errors import RegularizationInputError, check_keep_prob, check_lambd
from .loading import load_2D_dataset
from .network import (
    backward_propagation,
    forward_propagation,
    initialize_parameters,
    update_parameters,
)
from .predict import accuracy

__all__ = [
    "LAMBDA_CHOICES",
    "STUDENT_FUNCTION_NAMES",
    "RegularizationExplorer",
    "Settings",
    "check_student_functions",
    "show_explorer",
]

# Compile the engine now, in the background: the first slider move must not wait for it.
engine.warm_up()

#: The four graded functions, in the order the assignment writes them.
STUDENT_FUNCTION_NAMES = (
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
)

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
_FIRST_CHUNK = 300  # iterations before the first picture
_CHUNK_SECONDS = 0.04  # later chunks last about this long: a newer setting waits no longer
_MAX_CHUNK = 5000
_SLOW_CHUNK = 300  # slow motion: one picture every 300 iterations
_CURVES_EVERY = 0.25  # seconds between redraws of the cost/weights panel
_FRAME_EVERY = 0.08  # seconds between pictures of one run (the first and last are not held)
_GRID = 150  # heatmap resolution per axis
_WAIT = 60.0  # upper bound of every internal wait, seconds

_MPL_LOCK = threading.RLock()  # every matplotlib call of every explorer holds it

_CLASS_COLOURS = ("#d9480f", "#1864ab")  # label 0 (red/orange), label 1 (blue)


def _label(value: float) -> str:
    """Short text for a slider value: 0.7, 0.001, 10."""
    return f"{value:g}"


# ---------------------------------------------------------------------------
# Settings, data and the learner's functions.
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
    """Train and test arrays of one dataset setting, (2, m) and (1, m) each."""

    name: str
    train_X: np.ndarray
    train_Y: np.ndarray
    test_X: np.ndarray
    test_Y: np.ndarray

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
                arrays = load_2D_dataset()
            else:
                arrays = toy_datasets.make_dataset(
                    settings.dataset, noise=settings.noise, train_share=settings.train_share
                )
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


@dataclass
class FunctionCheck:
    """Outcome of checking one student function: passed, and why not."""

    name: str
    passed: bool
    message: str = ""
    note: str = ""


def _tiny_problem():
    rng = np.random.default_rng(2024)
    dims = (2, 5, 3, 1)
    X = rng.standard_normal((2, 7))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]])
    params = {}
    for layer in range(1, 4):
        params[f"W{layer}"] = rng.standard_normal((dims[layer], dims[layer - 1]))
        params[f"b{layer}"] = 0.1 * rng.standard_normal((dims[layer], 1))
    return X, Y, params


_GRAD_KEYS = ("dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")


def _engine_gradients(X, Y, params, lambd=0.0, keep_prob=1.0, masks=None) -> dict:
    """dW/db of one step, recovered from the engine's update with learning rate 1."""
    stepped, _ = engine.train(X, Y, params, 1.0, 1, lambd=lambd, keep_prob=keep_prob, masks=masks)
    return {"d" + key: params[key] - stepped[key] for key in params}


def _engine_cost(X, Y, params, lambd=0.0, keep_prob=1.0, masks=None) -> float:
    _, costs = engine.train(
        X, Y, params, 0.0, 1, lambd=lambd, keep_prob=keep_prob, masks=masks, record_every=1
    )
    return costs[0]


def _compare_gradients(grads, expected, params) -> str:
    if not isinstance(grads, dict):
        return f"it returned {type(grads).__name__}, not a dict of gradients"
    missing = [key for key in _GRAD_KEYS if key not in grads]
    if missing:
        return f"the gradients dict lacks {', '.join(missing)}"
    for key in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        got = np.asarray(grads[key], dtype=float)
        want = expected[key]
        if got.shape != want.shape:
            return f"{key} has shape {got.shape}; {key[1:]} has shape {params[key[1:]].shape}"
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            worst = float(np.max(np.abs(got - want)))
            return f"{key} differs from the kit's engine by up to {worst:.3g}"
    return ""


def check_student_functions(student_functions: dict) -> dict[str, FunctionCheck]:
    """Check each given student function on a small network against the kit's engine.

    Returns name -> FunctionCheck for the four graded functions; a missing
    function fails with "not given". The explorer trains with a function only
    if its check passes, and shows the message of each one that does not.
    """
    state = np.random.get_state()  # noqa: NPY002 (their dropout reseeds it)
    try:
        return _check_all(student_functions)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_all(student_functions: dict) -> dict[str, FunctionCheck]:
    X, Y, params = _tiny_problem()
    lambd, keep_prob = 0.7, 0.8
    results: dict[str, FunctionCheck] = {}

    def run(name: str, check: Callable[[Callable], str], note: str = "") -> None:
        function = student_functions.get(name)
        if function is None:
            results[name] = FunctionCheck(name, False, "not given")
            return
        if not callable(function):
            results[name] = FunctionCheck(name, False, f"{type(function).__name__} is not callable")
            return
        try:
            message = check(function)
        except Exception as exc:  # a student's bug can raise anything
            message = f"it raised {type(exc).__name__}: {exc}"
        results[name] = FunctionCheck(name, not message, message, note if not message else "")

    def cost_check(function):
        A3, _ = forward_propagation(X, params)
        value = function(A3, Y, params, lambd)
        if value is None:
            return "it returned None (not written yet?)"
        value = float(np.squeeze(value))
        want = _engine_cost(X, Y, params, lambd=lambd)
        if not math.isclose(value, want, rel_tol=1e-7, abs_tol=1e-9):
            return f"on a small test it returns {value:.6g} where the cost with L2 is {want:.6g}"
        return ""

    def backward_l2_check(function):
        _, cache = forward_propagation(X, params)
        grads = function(X, Y, cache, lambd)
        if grads is None:
            return "it returned None (not written yet?)"
        return _compare_gradients(grads, _engine_gradients(X, Y, params, lambd=lambd), params)

    dropout_cache: list = []

    def forward_dropout_check(function):
        out = function(X, params, keep_prob)
        if out is None:
            return "it returned None (not written yet?)"
        A3, cache = out
        if len(cache) != 14:
            return (
                f"its cache has {len(cache)} entries; it should be "
                "(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)"
            )
        D1, D2 = np.asarray(cache[1]), np.asarray(cache[6])
        if D1.shape != (5, 7) or D2.shape != (3, 7):
            return f"D1 and D2 have shapes {D1.shape} and {D2.shape}; expected (5, 7) and (3, 7)"
        if not (np.isin(D1, (0, 1)).all() and np.isin(D2, (0, 1)).all()):
            return "D1 and D2 must hold only 0 and 1 (keep or drop)"
        if D1.all() and D2.all():
            return "it keeps every unit at keep_prob=0.8; D1 and D2 should drop about 20%"
        A3 = np.asarray(A3, dtype=float)
        if A3.shape != (1, 7):
            return f"A3 has shape {A3.shape}; expected (1, 7)"
        masks = (D1[None], D2[None])
        want = _engine_cost(X, Y, params, keep_prob=keep_prob, masks=masks)
        got = compute_cost(A3, Y)
        if not math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-9):
            return (
                "with its own masks D1, D2 its A3 differs from inverted dropout on hidden "
                f"layers 1 and 2 (cost {got:.6g} instead of {want:.6g})"
            )
        dropout_cache.append((cache, masks))
        return ""

    def backward_dropout_check(function):
        if not dropout_cache:
            return "not checked yet: it needs a cache from a working forward_propagation_with_dropout"
        cache, masks = dropout_cache[0]
        grads = function(X, Y, cache, keep_prob)
        if grads is None:
            return "it returned None (not written yet?)"
        want = _engine_gradients(X, Y, params, keep_prob=keep_prob, masks=masks)
        return _compare_gradients(grads, want, params)

    run("compute_cost_with_regularization", cost_check)
    run("backward_propagation_with_regularization", backward_l2_check)
    reseeds = _same_masks_each_call(student_functions.get("forward_propagation_with_dropout"))
    run(
        "forward_propagation_with_dropout",
        forward_dropout_check,
        note=(
            "It calls np.random.seed(1) on every call (as the assignment asks, so that it "
            "can be graded), so it drops the same units at every iteration; the kit's "
            "engine draws fresh masks at every iteration, which is real dropout."
        )
        if reseeds
        else "",
    )
    run("backward_propagation_with_dropout", backward_dropout_check)
    return results


def _same_masks_each_call(function) -> bool:
    if not callable(function):
        return False
    X, _, params = _tiny_problem()
    try:
        first = np.asarray(function(X, params, 0.8)[1][1])
        second = np.asarray(function(X, params, 0.8)[1][1])
    except Exception:  # reported by the real check
        return False
    return first.shape == second.shape and bool(np.array_equal(first, second))


class _StudentTrainer:
    """Trains with the learner's own functions at NumPy speed; engine.Trainer's interface.

    L2 uses their cost and backward; dropout their forward and backward;
    "both" adds the L2 weight decay lambd/m * W to their dropout gradients.
    The clean train/test costs of the curves come from the kit.
    """

    def __init__(self, functions, data: Dataset, params, settings: Settings, record_every):
        self.functions = functions
        self.data = data
        self.params = {key: value.copy() for key, value in params.items()}
        self.lambd = settings.effective_lambd
        self.keep_prob = settings.effective_keep_prob
        self.learning_rate = settings.learning_rate
        self.record_every = record_every
        self.iteration = 0
        self.rows: list[tuple] = []

    @property
    def parameters(self) -> dict:
        return {key: value.copy() for key, value in self.params.items()}

    @property
    def history(self) -> np.ndarray:
        return np.array(self.rows, dtype=float).reshape(-1, 4)

    def step(self, n: int) -> int:
        f = self.functions
        X, Y = self.data.train_X, self.data.train_Y
        m = X.shape[1]
        dropout, l2 = self.keep_prob < 1.0, self.lambd > 0.0
        for _ in range(n):
            p = self.params
            if dropout:
                a3, cache = f["forward_propagation_with_dropout"](X, p, self.keep_prob)
            else:
                a3, cache = forward_propagation(X, p)
            if self.iteration % self.record_every == 0:
                if l2:
                    cost = f["compute_cost_with_regularization"](a3, Y, p, self.lambd)
                else:
                    cost = compute_cost(a3, Y)
                self.rows.append((self.iteration, float(np.squeeze(cost)),
                                  *_clean_costs(p, self.data)))  # fmt: skip
            if dropout:
                grads = dict(f["backward_propagation_with_dropout"](X, Y, cache, self.keep_prob))
                if l2:  # weight decay, the part of the L2 gradient their dropout code lacks
                    for layer in (1, 2, 3):
                        grads[f"dW{layer}"] = grads[f"dW{layer}"] + (self.lambd / m) * p[f"W{layer}"]
            elif l2:
                grads = f["backward_propagation_with_regularization"](X, Y, cache, self.lambd)
            else:
                grads = backward_propagation(X, Y, cache)
            self.params = update_parameters(p, grads, self.learning_rate)
            self.iteration += 1
        return n


def _clean_costs(params, data: Dataset) -> tuple[float, float]:
    """Cross-entropy of the network without dropout on the train and test sets."""
    return (
        compute_cost(engine.predict_proba(data.train_X, params), data.train_Y),
        compute_cost(engine.predict_proba(data.test_X, params), data.test_Y),
    )


# ---------------------------------------------------------------------------
# Pictures: matplotlib Figure + Agg canvas, never pyplot, always under _MPL_LOCK.
# ---------------------------------------------------------------------------


def _png(pixels) -> bytes:
    """PNG bytes of an RGBA pixel array or an Agg canvas; fast compression, the files are local."""
    if isinstance(pixels, FigureCanvasAgg):
        pixels = np.asarray(pixels.buffer_rgba())
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, pixels, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _light_cmap() -> ListedColormap:
    base = matplotlib.colormaps["RdBu"](np.linspace(0.0, 1.0, 256))
    base[:, :3] = 0.55 * base[:, :3] + 0.45  # paler, so that the points stand out
    return ListedColormap(base, name="explorer-light-RdBu")


class BoundaryPainter:
    """The decision-boundary heatmap with train (circles) and test (triangles) points.

    Speed matters here: this is the picture a slider move waits for. Axes,
    ticks and labels are rendered once per dataset, and so are the points,
    each set into a transparent layer. A frame then restores the axes,
    lets matplotlib draw the heatmap (coloured by a lookup table, with the
    0.5 boundary darkened in NumPy instead of a contour), blends the point
    layers on top and encodes the PNG: ~15 ms instead of ~60 ms for a full
    redraw.
    """

    def __init__(self, size=(4.4, 4.1), dpi=80):
        self.size, self.dpi = size, dpi
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes(self._RECT)
        self._lut = np.round(_light_cmap()(np.linspace(0.0, 1.0, 256)) * 255).astype(np.uint8)
        self.data: Dataset | None = None

    _RECT = (0.13, 0.1, 0.84, 0.86)

    def _layer(self, X, Y, limits, **style) -> tuple:
        """Points alone on a transparent canvas, kept as (pixels, premultiplied colour, 1 - alpha)."""
        figure = Figure(figsize=self.size, dpi=self.dpi)
        canvas = FigureCanvasAgg(figure)
        figure.patch.set_alpha(0.0)
        ax = figure.add_axes(self._RECT)
        ax.set_axis_off()
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        ax.scatter(X[0], X[1], c=np.array(_CLASS_COLOURS)[Y.ravel().astype(int)], **style)
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        where = np.nonzero(pixels[..., 3])
        alpha = (pixels[where][:, 3:4] / 255.0).astype(np.float32)
        return where, pixels[where][:, :3] * alpha, 1.0 - alpha

    def _prepare(self, data: Dataset) -> None:
        ax = self.axes
        ax.clear()
        limits = data.limits
        xs = np.linspace(limits[0], limits[1], _GRID)
        ys = np.linspace(limits[2], limits[3], _GRID)
        xx, yy = np.meshgrid(xs, ys)
        self._grid = np.ascontiguousarray(np.vstack([xx.ravel(), yy.ravel()]))
        self._image = ax.imshow(np.zeros((_GRID, _GRID, 4), np.uint8), extent=limits,
                                origin="lower", aspect="auto", interpolation="bilinear",
                                animated=True)  # fmt: skip
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
        ax.set_xlabel("x1", labelpad=1)
        ax.set_ylabel("x2", labelpad=1)
        ax.tick_params(labelsize=8)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._train = self._layer(data.train_X, data.train_Y, limits, s=22, linewidths=0.7,
                                  edgecolors="white")  # fmt: skip
        self._test = self._layer(data.test_X, data.test_Y, limits, s=18, marker="^",
                                 linewidths=0.6, edgecolors="black")  # fmt: skip
        self.data = data

    def heat(self, probs: np.ndarray) -> np.ndarray:
        """RGBA pixels for a grid of probabilities, the 0.5 level drawn dark."""
        rgba = self._lut[(probs * 255.0 + 0.5).astype(np.intp)]
        blue = probs > 0.5
        edge = np.zeros_like(blue)
        edge[:, 1:] |= blue[:, 1:] != blue[:, :-1]
        edge[1:, :] |= blue[1:, :] != blue[:-1, :]
        rgba[edge] = (34, 34, 34, 255)
        return rgba

    @staticmethod
    def _blend(pixels: np.ndarray, layer: tuple) -> None:
        where, colour, transparency = layer
        under = pixels[where]
        under[:, :3] = (colour + under[:, :3] * transparency + 0.5).astype(np.uint8)
        pixels[where] = under

    def paint(self, params, data: Dataset, show_test: bool) -> bytes:
        """PNG of the boundary of ``params`` over ``data``."""
        if self.data is not data:
            self._prepare(data)
        probs = engine.predict_proba(self._grid, params).reshape(_GRID, _GRID)
        self._image.set_data(self.heat(probs))
        self.canvas.restore_region(self._background)
        self.axes.draw_artist(self._image)
        pixels = np.asarray(self.canvas.buffer_rgba())
        self._blend(pixels, self._train)
        if show_test:
            self._blend(pixels, self._test)
        return _png(pixels)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7 times a power of ten that is >= value."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10.0 * power


class CurvesPainter:
    """Train and test cost curves over the iterations, and the weight norms as bars.

    Text is what costs in matplotlib, so the axes (ticks, titles, legends)
    are rendered once per set of axis limits and cached; a frame redraws
    only the lines, bars and three numbers over that background. Limits
    move in coarse steps (see ``_nice_ceiling``), so a run rebuilds them
    only a few times.
    """

    def __init__(self, size=(4.6, 4.1), dpi=80):
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.costs = self.figure.add_axes((0.13, 0.5, 0.83, 0.42))
        line = {"animated": True}
        (self._train,) = ax.plot([], [], color=_CLASS_COLOURS[1], lw=1.6, label="train", **line)
        (self._test,) = ax.plot([], [], color=_CLASS_COLOURS[0], lw=1.6, label="test", **line)
        (self._objective,) = ax.plot([], [], color="0.45", lw=1.0, ls="--",
                                     label="training objective", **line)  # fmt: skip
        ax.set_xlabel("iteration", fontsize=8, labelpad=1)
        ax.set_ylabel("cross-entropy", fontsize=8, labelpad=2)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3,
                  frameon=False, borderaxespad=0.2)  # fmt: skip
        ax = self.norms = self.figure.add_axes((0.13, 0.09, 0.83, 0.28))
        self._names = ("W1", "W2", "W3")
        self._bars = ax.barh(self._names, [1.0, 1.0, 1.0], color="#5c7cfa", height=0.6)
        for bar in self._bars:
            bar.set_animated(True)
        self._labels = [ax.text(0, k, "", va="center", fontsize=7, animated=True)
                        for k in range(3)]  # fmt: skip
        self._start = ax.scatter([1.0, 1.0, 1.0], self._names, marker="|", s=160, color="black",
                                 zorder=3, label="at the start", animated=True)  # fmt: skip
        ax.invert_yaxis()
        ax.set_title("weight norms ||W|| (Frobenius)", fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
                  borderaxespad=0.1)  # fmt: skip
        self._backgrounds: dict = {}

    def _background(self, key):
        background = self._backgrounds.get(key)
        iterations, cost_top, norm_top = key
        self.costs.set_xlim(0, iterations)
        self.costs.set_ylim(0, cost_top)
        self.norms.set_xlim(0, norm_top)
        if background is None:
            if len(self._backgrounds) > 32:
                self._backgrounds.clear()
            self.canvas.draw()
            background = self._backgrounds[key] = self.canvas.copy_from_bbox(self.figure.bbox)
        return background

    def paint(self, frame: Frame, initial_norms) -> bytes:
        """PNG of the curves and norms of ``frame``."""
        history = frame.history
        norms = [float(np.linalg.norm(frame.parameters[key])) for key in self._names]
        top = float(np.nanmax(history[:, 1:4])) if len(history) else 1.0
        key = (frame.settings.num_iterations, _nice_ceiling(1.05 * top),
               _nice_ceiling(1.2 * max(*norms, *initial_norms)))  # fmt: skip
        self.canvas.restore_region(self._background(key))
        self._train.set_data(history[:, 0], history[:, 2])
        self._test.set_data(history[:, 0], history[:, 3])
        self._objective.set_data(history[:, 0], history[:, 1])
        artists = [self._train, self._test]
        if frame.settings.regularizer != "none":
            artists.append(self._objective)
        for artist in artists:
            self.costs.draw_artist(artist)
        for bar, label, norm in zip(self._bars, self._labels, norms, strict=True):
            bar.set_width(norm)
            label.set_x(norm)
            label.set_text(f" {norm:.2f}")
            self.norms.draw_artist(bar)
            self.norms.draw_artist(label)
        self._start.set_offsets(np.column_stack([initial_norms, [0, 1, 2]]))
        self.norms.draw_artist(self._start)
        return _png(self.canvas)


class SweepPainter:
    """Train and test accuracy against the swept lambda or keep_prob, current value marked."""

    def __init__(self, size=(5.6, 3.0), dpi=80):
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0.1, 0.17, 0.86, 0.72))

    def paint(self, sweep: SweepResult, current: float) -> bytes:
        ax = self.axes
        ax.clear()
        values = np.array(sweep.values, dtype=float)
        if sweep.parameter == "lambd":
            off_at = SWEEP_LAMBDAS[1] / 3.0
            xs = np.where(values == 0.0, off_at, values)
            ax.set_xscale("log")
            ax.set_xticks(xs, ["off" if v == 0 else _label(v) for v in values], fontsize=7)
            ax.minorticks_off()
            marker = off_at if current == 0.0 else current
            ax.set_xlabel("λ (L2)", fontsize=8)
        else:
            xs = values
            marker = current
            ax.set_xlabel("keep_prob", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
        ax.plot(xs, sweep.train, "o-", color=_CLASS_COLOURS[1], lw=1.5, ms=4, label="train")
        ax.plot(xs, sweep.test, "^-", color=_CLASS_COLOURS[0], lw=1.5, ms=4, label="test")
        best = int(np.argmax(sweep.test))
        ax.annotate(f"best test {sweep.test[best]:.3f}", (xs[best], sweep.test[best]),
                    textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)  # fmt: skip
        ax.axvline(marker, color="black", lw=1, ls=":", label="current setting")
        ax.set_ylabel("accuracy", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(sweep.title, fontsize=9)
        ax.legend(fontsize=7, loc="lower left", frameon=False)
        self.canvas.draw()
        return _png(self.canvas)


# ---------------------------------------------------------------------------
# The app.
# ---------------------------------------------------------------------------


@dataclass
class Frame:
    """A snapshot of one run: what a picture is drawn from."""

    generation: int
    settings: Settings
    data: Dataset
    iteration: int
    done: bool
    parameters: dict
    history: np.ndarray
    backend: str
    started: float
    drawn: threading.Event = field(default_factory=threading.Event)


@dataclass
class SweepResult:
    """Accuracies of one sweep: parameter is "lambd" or "keep_prob"."""

    parameter: str
    values: tuple
    train: list
    test: list
    settings: Settings
    title: str = ""

    @property
    def best(self) -> float:
        """The swept value with the highest test accuracy (the first one on ties)."""
        return self.values[int(np.argmax(self.test))]


def _guarded(method):
    """Run a widget callback, showing any exception in the app instead of losing it."""

    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            self._show_error(exc)
            return None

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class RegularizationExplorer:
    """The explorer app; ``widget`` is what gets displayed.

    Build it with ``show_explorer()``. For scripts and tests: ``set()``
    changes several controls at once, ``wait()`` blocks until the picture
    for the current values is on screen, ``shown`` is the Frame it was
    drawn from, ``close()`` stops the threads.
    """

    def __init__(
        self,
        student_functions: dict | None = None,
        *,
        query: str = "",
        url_state: bool = False,
        start: bool = True,
        **settings,
    ):
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._generation = 0
        self._view_version = 0
        self._job: Frame | None = None
        self._pending: Frame | None = None
        self._last: Frame | None = None
        self._shown: Frame | None = None
        self._shown_view = -1
        self._closed = False
        self._holding = False
        self._last_curves = 0.0
        self._sweep_generation = 0
        self.sweep: SweepResult | None = None
        self._sweep_marker = math.nan
        self.errors: list[str] = []

        self._initial = initial_parameters()
        self._initial_norms = [float(np.linalg.norm(self._initial[f"W{k}"])) for k in (1, 2, 3)]
        self._boundary = BoundaryPainter()
        self._curves = CurvesPainter()
        self._sweeper = SweepPainter()

        base = Settings(**settings).validated()
        problems: list[str] = []
        if query:
            base, problems = Settings.from_query(query, base)
        self._url_state = url_state
        self._running: int | None = None
        self._failed_generation = -1
        self._build_widgets(base)
        self.checks: dict[str, FunctionCheck] = {}
        self.student_functions = dict(student_functions or {})
        if student_functions is not None:
            self.checks = check_student_functions(self.student_functions)
        self._show_notes()

        self._trainer_thread = threading.Thread(target=self._train_loop, daemon=True,
                                                name="explorer-train")  # fmt: skip
        self._painter_thread = threading.Thread(target=self._paint_loop, daemon=True,
                                                name="explorer-paint")  # fmt: skip
        self._trainer_thread.start()
        self._painter_thread.start()
        if start:
            self._restart()
        for problem in problems:  # after _restart, which clears the messages of older runs
            self._show_error(RegularizationInputError(problem))

    # -- widgets -----------------------------------------------------------

    def _build_widgets(self, s: Settings) -> None:
        style = {"description_width": "92px"}
        wide = widgets.Layout(width="330px")
        lambda_options = [("off" if v == 0 else _label(v), v) for v in LAMBDA_CHOICES]
        if s.lambd not in LAMBDA_CHOICES:
            lambda_options.append((_label(s.lambd), s.lambd))
            lambda_options.sort(key=lambda item: item[1])
        self.lambd = widgets.SelectionSlider(
            options=lambda_options, value=s.lambd, description="λ (L2)", style=style, layout=wide
        )
        self.lambd.add_class("rex-lambda")
        self.keep_prob = widgets.FloatSlider(value=s.keep_prob, min=KEEP_PROB_RANGE[0],
                                             max=KEEP_PROB_RANGE[1], step=0.01,
                                             description="keep_prob", readout_format=".2f",
                                             style=style, layout=wide)  # fmt: skip
        self.regularizer = widgets.ToggleButtons(options=REGULARIZERS, value=s.regularizer,
                                                 tooltips=["no regularization", "L2 (weight decay)",
                                                           "inverted dropout on hidden layers",
                                                           "L2 and dropout together"],
                                                 style={"button_width": "76px"})  # fmt: skip
        rates = sorted({*LEARNING_RATES, s.learning_rate})
        self.learning_rate = widgets.SelectionSlider(options=[(_label(r), r) for r in rates],
                                                     value=s.learning_rate,
                                                     description="learning rate",
                                                     style=style, layout=wide)  # fmt: skip
        counts = sorted({*ITERATION_CHOICES, s.num_iterations})
        self.num_iterations = widgets.SelectionSlider(options=[(str(n), n) for n in counts],
                                                      value=s.num_iterations,
                                                      description="iterations",
                                                      style=style, layout=wide)  # fmt: skip
        self.dataset = widgets.Dropdown(options=DATASETS, value=s.dataset, description="dataset",
                                        style=style, layout=wide)  # fmt: skip
        self.noise = widgets.FloatSlider(
            value=s.noise, min=0.0, max=0.5, step=0.05, description="noise", style=style, layout=wide
        )
        self.train_share = widgets.FloatSlider(value=s.train_share, min=0.1, max=0.9, step=0.05,
                                               description="train share", style=style,
                                               layout=wide)  # fmt: skip
        self.seed = widgets.BoundedIntText(value=s.seed, min=0, max=999_999,
                                           description="dropout seed", style=style,
                                           layout=widgets.Layout(width="200px"))  # fmt: skip
        self.show_test = widgets.Checkbox(value=True, description="show test points",
                                          indent=False)  # fmt: skip
        self.slow = widgets.Checkbox(value=False, description="slow motion", indent=False)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="352px"))
        self.image.add_class("rex-boundary")
        self.curves_image = widgets.Image(format="png", layout=widgets.Layout(width="368px"))
        self.curves_image.add_class("rex-curves")
        self.caption = widgets.HTML(layout=widgets.Layout(width="352px"))
        self.caption.add_class("rex-caption")
        self.accuracy = widgets.HTML()
        self.accuracy.add_class("rex-accuracy")
        self.status = widgets.HTML()
        self.status.add_class("rex-status")
        self.error_box = widgets.HTML()
        self.error_box.add_class("rex-errors")
        self.notes = widgets.HTML()
        self.notes.add_class("rex-notes")
        self.link = widgets.HTML()
        self.sweep_parameter = widgets.ToggleButtons(options=[("λ", "lambd"),
                                                              ("keep_prob", "keep_prob")],
                                                     value="lambd", description="sweep",
                                                     style={"description_width": "40px",
                                                            "button_width": "92px"})  # fmt: skip
        self.sweep_button = widgets.Button(description="Sweep", icon="chart-line",
                                           tooltip="train once per value of the grid and plot "
                                           "train/test accuracy")  # fmt: skip
        self.sweep_button.add_class("rex-sweep-button")
        self.sweep_status = widgets.HTML()
        self.sweep_image = widgets.Image(format="png", layout=widgets.Layout(width="448px", display="none"))
        self.sweep_image.add_class("rex-sweep")
        self.keep_prob.add_class("rex-keep-prob")
        self.regularizer.add_class("rex-regularizer")
        self.dataset.add_class("rex-dataset")
        self._sync_enabled(s)

        training = (self.regularizer, self.lambd, self.keep_prob, self.learning_rate,
                    self.num_iterations, self.dataset, self.noise, self.train_share,
                    self.seed)  # fmt: skip
        for control in training:
            control.observe(self._on_change, names="value")
        self.show_test.observe(self._on_view_change, names="value")
        self.sweep_parameter.observe(self._on_sweep_parameter, names="value")
        self.sweep_button.on_click(self._on_sweep)

        controls = widgets.VBox([
            widgets.HTML("regularizer"), self.regularizer, self.lambd, self.keep_prob, self.learning_rate,
            self.num_iterations, self.dataset, self.noise, self.train_share, self.seed,
            widgets.HBox([self.show_test, self.slow]), self.link,
        ], layout=widgets.Layout(width="340px"))  # fmt: skip
        picture = widgets.VBox([self.image, self.caption, self.accuracy])
        views = widgets.HBox([controls, picture, self.curves_image],
                             layout=widgets.Layout(flex_flow="row wrap"))  # fmt: skip
        sweep = widgets.VBox([widgets.HBox([self.sweep_parameter, self.sweep_button]),
                              self.sweep_status, self.sweep_image])  # fmt: skip
        title = widgets.HTML("<b>Regularization explorer</b>: the assignment's network "
                             "[2, 20, 3, 1] retrains from the same start whenever a control "
                             "moves.")  # fmt: skip
        self.widget = widgets.VBox([title, self.notes, views, self.status, self.error_box, sweep])
        self.widget.add_class("rex-app")

    def _sync_enabled(self, s: Settings) -> None:
        self.lambd.disabled = s.regularizer not in ("L2", "both")
        self.keep_prob.disabled = s.regularizer not in ("dropout", "both")
        generated = s.dataset != "football"
        self.noise.disabled = not generated
        self.train_share.disabled = not generated

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- reading and changing the controls ---------------------------------

    @property
    def settings(self) -> Settings:
        """The values the controls show now."""
        return Settings(
            dataset=self.dataset.value, noise=round(float(self.noise.value), 6),
            train_share=round(float(self.train_share.value), 6),
            regularizer=self.regularizer.value, lambd=float(self.lambd.value),
            keep_prob=round(float(self.keep_prob.value), 6),
            learning_rate=float(self.learning_rate.value),
            num_iterations=int(self.num_iterations.value), seed=int(self.seed.value),
        )  # fmt: skip

    def set(self, **values) -> None:
        """Change several controls at once (one retraining); values are validated first.

        Keys are the fields of ``Settings`` plus ``show_test`` and ``slow``.
        A value the controls cannot take raises RegularizationInputError.
        """
        view = {key: values.pop(key) for key in ("show_test", "slow") if key in values}
        unknown = set(values) - {f.name for f in fields(Settings)}
        if unknown:
            raise RegularizationInputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        target = replace(self.settings, **values).validated()
        if target.lambd not in [value for _, value in self.lambd.options]:
            raise RegularizationInputError(
                f"lambd={target.lambd} is not a stop of the slider; choose one of "
                f"{', '.join(_label(v) for v in LAMBDA_CHOICES)}."
            )
        for name, control in (("learning_rate", self.learning_rate),
                              ("num_iterations", self.num_iterations)):  # fmt: skip
            if getattr(target, name) not in [value for _, value in control.options]:
                choices = ", ".join(label for label, _ in control.options)
                raise RegularizationInputError(f"{name} must be one of {choices}.")
        self._holding = True
        try:
            for name, control in self._controls().items():
                if name in values:
                    control.value = getattr(target, name)
        finally:
            self._holding = False
        if values:
            self._restart()
        for key, value in view.items():
            getattr(self, key).value = bool(value)

    def _controls(self) -> dict:
        return {"regularizer": self.regularizer, "lambd": self.lambd,
                "keep_prob": self.keep_prob, "learning_rate": self.learning_rate,
                "num_iterations": self.num_iterations, "dataset": self.dataset,
                "noise": self.noise, "train_share": self.train_share,
                "seed": self.seed}  # fmt: skip

    @_guarded
    def _on_change(self, change=None) -> None:
        if not self._holding:
            self._restart()

    @_guarded
    def _on_view_change(self, change=None) -> None:
        with self._lock:
            self._view_version += 1
            if self._last is not None and self._last.done:
                self._publish(self._last)

    @_guarded
    def _on_sweep_parameter(self, change=None) -> None:
        if self.sweep is not None:
            self._paint_sweep()

    # -- training ----------------------------------------------------------

    def _backend_for(self, s: Settings) -> tuple[str, list[str]]:
        """("student", []) when the learner's functions cover this run, else ("engine", why)."""
        if not self.student_functions:
            return "engine", []
        needed = []
        if s.effective_lambd > 0:
            needed += ["compute_cost_with_regularization"]
            if s.effective_keep_prob == 1.0:
                needed += ["backward_propagation_with_regularization"]
        if s.effective_keep_prob < 1.0:
            needed += ["forward_propagation_with_dropout", "backward_propagation_with_dropout"]
        failing = [name for name in needed if not self.checks[name].passed]
        if not needed or failing:
            return "engine", failing
        return "student", []

    def _restart(self) -> None:
        settings = self.settings.validated()
        self._sync_enabled(settings)
        backend, failing = self._backend_for(settings)
        with self._lock:
            self._generation += 1
            self._job = Frame(self._generation, settings, None, 0, False, {}, np.empty((0, 4)),
                              backend, time.perf_counter())  # fmt: skip
            self.errors.clear()
            self.error_box.value = ""
            self._wake.notify_all()
        if self._url_state:
            self.link.value = (f'<a class="rex-link" href="?{html.escape(settings.query())}" '
                               'target="_self">link to these settings</a>')  # fmt: skip
        notes = []
        if failing:
            notes.append(
                f"Training with the kit's engine: {', '.join(failing)} does not pass its check "
                "yet (see above)."
            )
        if not engine.warm_up().is_set():
            notes.append(
                "Compiling the fast engine: about 15 s, only the first time on this machine "
                "(numba keeps it in a cache); the picture follows."
            )
        self.status.value = html.escape(" ".join(notes))

    def _is_current(self, frame: Frame) -> bool:
        return frame.generation == self._generation and not self._closed

    def _train_loop(self) -> None:
        while True:
            with self._lock:
                while self._job is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                job, self._job = self._job, None
                self._running = job.generation
            try:
                self._train(job)
            except Exception as exc:
                if self._is_current(job):
                    self._show_error(exc, failed=True)
            finally:
                with self._lock:
                    self._running = None
                    self._wake.notify_all()

    def _train(self, job: Frame) -> None:
        s = job.settings
        data = load_dataset(s)
        record_every = max(1, s.num_iterations // 300)
        trainer = None
        if job.backend == "student":
            trainer = _StudentTrainer(self.student_functions, data, self._initial, s, record_every)
            try:
                self._run(job, data, trainer)
                return
            except Exception as exc:
                if not self._is_current(job):
                    return
                self._show_error(exc, prefix="Your functions failed while training, so the "
                                 "kit's engine takes over: ")  # fmt: skip
                job = replace(job, backend="engine")
        trainer = engine.Trainer(
            data.train_X, data.train_Y, self._initial, learning_rate=s.learning_rate,
            lambd=s.effective_lambd, keep_prob=s.effective_keep_prob, seed=s.seed,
            X_test=data.test_X, Y_test=data.test_Y, record_every=record_every,
        )  # fmt: skip
        self._run(job, data, trainer)

    def _run(self, job: Frame, data: Dataset, trainer) -> None:
        """Train in chunks, publishing a snapshot after each one, until done or stale.

        The first chunk is short so that the first picture comes fast; later
        ones last about _CHUNK_SECONDS, few enough that the drawing thread
        (which holds the GIL while matplotlib renders) rarely delays training.
        In slow motion every chunk is 300 iterations and waits for its picture.
        """
        total = job.settings.num_iterations
        slow = self.slow.value
        chunk = _SLOW_CHUNK if slow else _FIRST_CHUNK
        while trainer.iteration < total:
            if not self._is_current(job):
                return
            started = time.perf_counter()
            trainer.step(min(chunk, total - trainer.iteration))
            if not slow:
                took = max(time.perf_counter() - started, 1e-4)
                chunk = int(min(max(chunk * _CHUNK_SECONDS / took, 50), _MAX_CHUNK))
            done = trainer.iteration >= total
            history = trainer.history
            params = trainer.parameters
            if done:
                row = np.array([[total, np.nan, *_clean_costs(params, data)]])
                history = np.concatenate([history, row])
            frame = replace(job, data=data, iteration=trainer.iteration, done=done,
                            parameters=params, history=history,
                            drawn=threading.Event())  # fmt: skip
            self._publish(frame)
            if slow and not done:
                deadline = time.monotonic() + 2.0
                while not frame.drawn.wait(0.05):
                    if not self._is_current(job) or time.monotonic() > deadline:
                        break

    def _publish(self, frame: Frame) -> None:
        with self._lock:
            if self._is_current(frame):
                self._pending = frame
                self._last = frame
                self._wake.notify_all()

    # -- drawing -----------------------------------------------------------

    def _paint_loop(self) -> None:
        """Draw the newest snapshot; pictures of one run come at most every _FRAME_EVERY s.

        The pause leaves the CPU to training (this machine may have two
        cores for the kernel, the server and the browser together); the
        first picture of a run and its final one are drawn at once.
        """
        painted_generation, painted_at = -1, 0.0
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                frame = self._pending
                hold = painted_at + _FRAME_EVERY - time.perf_counter()
                if not frame.done and frame.generation == painted_generation and hold > 0:
                    self._wake.wait(hold)
                    continue
                self._pending = None
                view = self._view_version
            painted_generation, painted_at = frame.generation, time.perf_counter()
            try:
                self._paint(frame, view)
            except Exception as exc:
                if self._is_current(frame):
                    self._show_error(exc, failed=frame.done)
            finally:
                frame.drawn.set()

    def _paint(self, frame: Frame, view: int) -> None:
        """Draw ``frame``: the boundary first (the picture people wait for), then the curves."""
        if not self._is_current(frame):
            return
        show_test = self.show_test.value
        with _MPL_LOCK:
            png = self._boundary.paint(frame.parameters, frame.data, show_test)
        data = frame.data
        train_acc = accuracy(data.train_X, data.train_Y, frame.parameters)
        test_acc = accuracy(data.test_X, data.test_Y, frame.parameters)
        with self._lock:
            if not self._is_current(frame):
                return
            self.image.value = png
            self.caption.value = self._caption(frame, show_test)
            self.accuracy.value = (
                f'<div class="rex-accuracy-values" data-train="{train_acc!r}" '
                f'data-test="{test_acc!r}">Train accuracy <b>{100 * train_acc:.1f} %</b> '
                f"· test accuracy <b>{100 * test_acc:.1f} %</b></div>"
            )
        now = time.perf_counter()
        if frame.done or now - self._last_curves >= _CURVES_EVERY:
            self._last_curves = now
            with _MPL_LOCK:
                curves = self._curves.paint(frame, self._initial_norms)
            with self._lock:
                if not self._is_current(frame):
                    return
                self.curves_image.value = curves
        if frame.done and self.sweep is not None and self._sweep_marker != self._sweep_current():
            self._paint_sweep()  # keep the sweep's "current setting" line on the current value
        if frame.done and "Compiling" in self.status.value:
            self.status.value = self.status.value.split("Compiling")[0].strip()
        with self._lock:
            if self._is_current(frame):
                self._shown = frame
                self._shown_view = view
                self._shown_accuracy = (train_acc, test_acc)
                self._wake.notify_all()

    def _caption(self, frame: Frame, show_test: bool) -> str:
        s = frame.settings
        parts = [s.regularizer]
        if s.regularizer in ("L2", "both"):
            parts.append("λ = " + ("off" if s.lambd == 0 else _label(s.lambd)))
        if s.regularizer in ("dropout", "both"):
            parts.append(f"keep_prob = {s.keep_prob:.2f}")
        parts.append(f"learning rate {_label(s.learning_rate)}")
        state = "done" if frame.done else "training"
        who = "your functions" if frame.backend == "student" else "kit engine"
        attributes = {
            "generation": frame.generation, "regularizer": s.regularizer,
            "lambda": _label(s.lambd), "lambda-label": "off" if s.lambd == 0 else _label(s.lambd),
            "keep-prob": f"{s.keep_prob:.2f}", "learning-rate": _label(s.learning_rate),
            "iterations": s.num_iterations, "iteration": frame.iteration,
            "dataset": s.dataset, "noise": _label(s.noise), "train-share": _label(s.train_share),
            "seed": s.seed, "status": state, "backend": frame.backend,
            "show-test": str(bool(show_test)).lower(),
        }  # fmt: skip
        data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attributes.items())
        text = (f"{' · '.join(parts)}<br>{s.dataset} · iteration {frame.iteration} of "
                f"{s.num_iterations} ({state}, {who})")  # fmt: skip
        return f'<div class="rex-caption-values" {data}>{text}</div>'

    # -- sweep -------------------------------------------------------------

    @_guarded
    def _on_sweep(self, button=None) -> None:
        settings = self.settings.validated()
        parameter = self.sweep_parameter.value
        with self._lock:
            self._sweep_generation += 1
            token = self._sweep_generation
        self.sweep_button.disabled = True
        self.sweep_status.value = "Sweeping…"
        thread = threading.Thread(target=self._sweep_thread, args=(settings, parameter, token),
                                  daemon=True, name="explorer-sweep")  # fmt: skip
        thread.start()
        self._sweep_threads = [*getattr(self, "_sweep_threads", []), thread]

    def run_sweep(self, parameter: str = "lambd", settings: Settings | None = None) -> SweepResult:
        """Train once per grid value of ``parameter`` ("lambd" or "keep_prob"); return accuracies.

        Uses the kit's engine, the current dataset, learning rate, iterations
        and seed. Sweeping lambda keeps keep_prob as set when the regularizer
        is dropout or both (else 1); sweeping keep_prob keeps lambda likewise.
        """
        s = (settings or self.settings).validated()
        data = load_dataset(s)
        if parameter == "lambd":
            grid = SWEEP_LAMBDAS
            runs = [(lambd, s.effective_keep_prob if s.regularizer == "both" else 1.0)
                    for lambd in grid]  # fmt: skip
            title = f"accuracy after {s.num_iterations} iterations against λ"
        elif parameter == "keep_prob":
            grid = SWEEP_KEEP_PROBS
            runs = [(s.effective_lambd if s.regularizer == "both" else 0.0, kp) for kp in grid]
            title = f"accuracy after {s.num_iterations} iterations against keep_prob"
        else:
            raise RegularizationInputError(f"parameter must be 'lambd' or 'keep_prob'; got {parameter!r}.")
        results: list = [None] * len(runs)
        failures: list[BaseException] = []

        def work(indices) -> None:
            try:
                for index in indices:
                    if self._closed:
                        return
                    lambd, keep_prob = runs[index]
                    params, _ = engine.train(
                        data.train_X, data.train_Y, self._initial, s.learning_rate,
                        s.num_iterations, lambd=lambd, keep_prob=keep_prob, seed=s.seed,
                        record_every=s.num_iterations,
                    )  # fmt: skip
                    results[index] = (accuracy(data.train_X, data.train_Y, params),
                                      accuracy(data.test_X, data.test_Y, params))  # fmt: skip
            except Exception as exc:  # reported by the caller, not lost in a thread
                failures.append(exc)

        # The engine releases the GIL: two threads use both cores.
        indices = list(range(len(runs)))
        workers = [threading.Thread(target=work, args=(part,), daemon=True)
                   for part in (indices[0::2], indices[1::2])]  # fmt: skip
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=10 * _WAIT)
        if failures:
            raise failures[0]
        if any(result is None for result in results):
            raise RuntimeError("the sweep stopped before the end (app closed or too slow)")
        return SweepResult(parameter, tuple(grid), [r[0] for r in results],
                           [r[1] for r in results], s, f"{title} ({s.dataset})")  # fmt: skip

    def _sweep_thread(self, settings: Settings, parameter: str, token: int) -> None:
        try:
            result = self.run_sweep(parameter, settings)
            with self._lock:
                if token != self._sweep_generation or self._closed:
                    return
                self.sweep = result
            self._paint_sweep()
        except Exception as exc:
            self._show_error(exc, prefix="The sweep failed: ")
            self.sweep_status.value = ""
        finally:
            with self._lock:
                if token == self._sweep_generation:
                    self.sweep_button.disabled = False
                    self._wake.notify_all()

    def _sweep_current(self) -> float:
        if self.sweep is None:
            return math.nan
        return float(self.lambd.value if self.sweep.parameter == "lambd" else self.keep_prob.value)

    def _paint_sweep(self) -> None:
        result = self.sweep
        current = self._sweep_current()
        self._sweep_marker = current
        with _MPL_LOCK:
            self.sweep_image.value = self._sweeper.paint(result, float(current))
        self.sweep_image.layout.display = None
        name = "λ" if result.parameter == "lambd" else "keep_prob"
        best = result.best
        best_label = "off" if (result.parameter == "lambd" and best == 0) else _label(best)
        self.sweep_status.value = (
            f'<span class="rex-sweep-values" data-parameter="{result.parameter}" '
            f'data-best="{best!r}">Highest test accuracy {max(result.test):.3f} at {name} = '
            f"{best_label}. (Kit engine, {result.settings.dataset}, "
            f"{result.settings.num_iterations} iterations.)</span>"
        )

    # -- messages ----------------------------------------------------------

    def _show_notes(self) -> None:
        if not self.checks:
            self.notes.value = ""
            return
        lines = []
        for name in STUDENT_FUNCTION_NAMES:
            check = self.checks[name]
            if check.passed:
                line = f"✓ your <code>{name}</code> passes its check"
                if check.note:
                    line += f". <i>{html.escape(check.note)}</i>"
            else:
                line = (f"✗ your <code>{name}</code> does not pass its check yet: "
                        f"{html.escape(check.message)}. The explorer uses the kit's engine "
                        "where it would need it.")  # fmt: skip
            lines.append(f"<li>{line}</li>")
        self.notes.value = (
            "<div class='rex-student'>Training uses your functions where they pass "
            "(NumPy speed: a few seconds per run); the sweep always uses the kit's engine."
            f"<ul>{''.join(lines)}</ul></div>"
        )

    def _show_error(self, exc: BaseException, prefix: str = "", failed: bool = False) -> None:
        """Show ``exc`` in the app's error area; ``failed``: it ended the current run."""
        if isinstance(exc, RegularizationInputError):
            text = f"{prefix}{exc}"
        else:
            last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            where = f" (in {last[0].name}, line {last[0].lineno})" if last else ""
            text = f"{prefix}{type(exc).__name__}: {exc}{where}"
        with self._lock:
            if failed:
                self._failed_generation = self._generation
            self.errors.append(text)
            self.error_box.value = "".join(
                f'<div class="rex-error" style="color:#c92a2a">⚠ {html.escape(t)}</div>' for t in self.errors
            )
            self._wake.notify_all()

    # -- for scripts and tests ---------------------------------------------

    @property
    def shown(self) -> Frame | None:
        """The frame the picture on screen was drawn from."""
        return self._shown

    @property
    def shown_accuracy(self) -> tuple[float, float] | None:
        """(train, test) accuracy printed under the picture on screen."""
        return getattr(self, "_shown_accuracy", None)

    def idle(self) -> bool:
        """True when the picture on screen is the finished run of the current values."""
        shown = self._shown
        return (
            shown is not None
            and shown.generation == self._generation
            and shown.done
            and self._shown_view == self._view_version
            and self._job is None
        )

    def failed(self) -> bool:
        """True when the run of the current values stopped on an error (shown in the app)."""
        with self._lock:
            return self._failed_generation == self._generation and not self.idle()

    def wait(self, timeout: float = _WAIT) -> bool:
        """Block until ``idle()`` or ``failed()``; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not (self.idle() or self.failed()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.1))
            return True

    def wait_sweep(self, timeout: float = _WAIT) -> bool:
        """Block until the sweep started by the button has finished."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.sweep_button.disabled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.1))
        return True

    def close(self) -> None:
        """Stop the threads and close the widgets."""
        with self._lock:
            self._closed = True
            self._generation += 1
            self._wake.notify_all()
        for thread in (self._trainer_thread, self._painter_thread,
                       *getattr(self, "_sweep_threads", [])):  # fmt: skip
            thread.join(timeout=_WAIT)
        _close_tree(self.widget)


def _close_tree(widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


def show_explorer(student_functions: dict | None = None, *, query: str | None = None, **settings):
    """Build the explorer, display it, start training; return the RegularizationExplorer.

    ``student_functions`` maps the four graded names (compute_cost_with_regularization,
    backward_propagation_with_regularization, forward_propagation_with_dropout,
    backward_propagation_with_dropout) to the learner's functions; each one that
    passes a quick check against the kit's engine is then used for training.
    ``query`` is a URL query string such as "lambd=0.3&regularizer=L2" (the Voila
    page passes its own); ``settings`` are fields of ``Settings``, e.g. lambd=0.7.
    """
    from IPython.display import display

    if os.environ.get("NBGRADER_EXECUTION"):
        # The autograder runs the notebook headless: a live app would only burn CPU there.
        print("(Autograder run: the explorer is not started; it carries no points.)")
        return None
    app = RegularizationExplorer(
        student_functions, query=query or "", url_state=query is not None, **settings
    )
    display(app.widget)
    return app
