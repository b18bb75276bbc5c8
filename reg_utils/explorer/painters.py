"""The explorer's three pictures as image bytes: decision boundary, cost curves, sweep.

Drawn with matplotlib's object API on Agg canvases, never pyplot, always
under ``_MPL_LOCK``; the two pictures of a frame reuse cached backgrounds
so that a slider move waits ~15 ms for its picture. The boundary, a
smooth shading redrawn several times a second, goes out as JPEG (a fifth of
the encoding time of a PNG and half its bytes, which the kernel sends
and the browser decodes); the curves and the sweep, thin lines and
text, as PNG. Used by the explorer of
``notebooks/Explore_regularization.ipynb`` and of the assignment.
"""

from __future__ import annotations

import io
import math
import threading

import matplotlib
import matplotlib.image
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .. import engine
from .records import Frame, SweepResult
from .settings import SWEEP_LAMBDAS, Dataset, _label

_GRID = 150  # heatmap resolution per axis

_MPL_LOCK = threading.RLock()  # every matplotlib call of every explorer holds it

_CLASS_COLOURS = ("#d9480f", "#1864ab")  # label 0 (red/orange), label 1 (blue)


# ---------------------------------------------------------------------------
# Pictures: matplotlib Figure + Agg canvas, never pyplot, always under _MPL_LOCK.
# ---------------------------------------------------------------------------


#: Pillow's options (through matplotlib) per format: fast PNG compression, as the
#: pictures travel to a local browser; JPEG without chroma subsampling, so that the
#: small coloured markers keep their colour to the edge.
_SAVE_OPTIONS = {"png": {"compress_level": 1}, "jpeg": {"quality": 90, "subsampling": 0}}


def _encode(pixels, kind: str = "png") -> bytes:
    """``kind`` ("png" or "jpeg") bytes of an RGBA pixel array or an Agg canvas."""
    if isinstance(pixels, FigureCanvasAgg):
        pixels = np.asarray(pixels.buffer_rgba())
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, pixels, format=kind, pil_kwargs=_SAVE_OPTIONS[kind])
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
    layers on top and encodes the JPEG: ~15 ms instead of ~60 ms for a full
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
        """JPEG of the boundary of ``params`` over ``data``."""
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
        return _encode(pixels, "jpeg")


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

    Text is 9-10 pt, readable at the notebook's width; a bar's value sits to
    the right of both the bar and its "at the start" mark.

    Text is what costs in matplotlib, so the axes (ticks, titles, legends)
    are rendered once per set of axis limits and cached; a frame redraws
    only the lines, bars and three numbers over that background. Limits
    move in coarse steps (see ``_nice_ceiling``), so a run rebuilds them
    only a few times.
    """

    def __init__(self, size=(4.6, 4.1), dpi=80):
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.costs = self.figure.add_axes((0.14, 0.56, 0.82, 0.36))
        line = {"animated": True}
        (self._train,) = ax.plot([], [], color=_CLASS_COLOURS[1], lw=1.6, label="train", **line)
        (self._test,) = ax.plot([], [], color=_CLASS_COLOURS[0], lw=1.6, label="test", **line)
        (self._objective,) = ax.plot([], [], color="0.45", lw=1.0, ls="--",
                                     label="training objective", **line)  # fmt: skip
        ax.set_xlabel("iteration", fontsize=10, labelpad=1)
        ax.set_ylabel("cross-entropy", fontsize=10, labelpad=2)
        ax.tick_params(labelsize=9)
        ax.legend(fontsize=9, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3,
                  frameon=False, borderaxespad=0.2)  # fmt: skip
        ax = self.norms = self.figure.add_axes((0.14, 0.08, 0.82, 0.27))
        self._names = ("W1", "W2", "W3")
        self._bars = ax.barh(self._names, [1.0, 1.0, 1.0], color="#5c7cfa", height=0.6)
        for bar in self._bars:
            bar.set_animated(True)
        self._labels = [ax.text(0, k, "", va="center", fontsize=9, animated=True)
                        for k in range(3)]  # fmt: skip
        self._start = ax.scatter([1.0, 1.0, 1.0], self._names, marker="|", s=160, color="black",
                                 zorder=3, label="at the start", animated=True)  # fmt: skip
        ax.invert_yaxis()
        ax.set_title("weight norms ||W|| (Frobenius)", fontsize=10, loc="left")
        ax.tick_params(labelsize=9)
        ax.legend(fontsize=9, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
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
        for bar, label, norm, start in zip(self._bars, self._labels, norms, initial_norms, strict=True):
            bar.set_width(norm)
            label.set_x(max(norm, start))  # right of the bar and of its start mark, never across it
            label.set_text(f" {norm:.2f}")
            self.norms.draw_artist(bar)
            self.norms.draw_artist(label)
        self._start.set_offsets(np.column_stack([initial_norms, [0, 1, 2]]))
        self.norms.draw_artist(self._start)
        return _encode(self.canvas)


class SweepPainter:
    """Train and dev accuracy against the swept lambda or keep_prob, current value marked.

    Sized for the notebook's width: 9-10 pt text, lambda ticks thinned and
    slanted so that they never overlap, and the legend outside the axes.
    """

    def __init__(self, size=(6.4, 3.4), dpi=80):
        self.figure = Figure(figsize=size, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0.1, 0.22, 0.66, 0.66))

    def paint(self, sweep: SweepResult, current: float) -> bytes:
        ax = self.axes
        ax.clear()
        values = np.array(sweep.values, dtype=float)
        if sweep.parameter == "lambd":
            off_at = SWEEP_LAMBDAS[1] / 3.0
            xs = np.where(values == 0.0, off_at, values)
            ax.set_xscale("log")
            shown = [k for k in range(len(values)) if k % 2 == 0 or k == len(values) - 1]
            ax.set_xticks(xs[shown], ["off" if values[k] == 0 else _label(values[k]) for k in shown],
                          fontsize=9, rotation=40, ha="right", rotation_mode="anchor")  # fmt: skip
            ax.minorticks_off()
            marker = off_at if current == 0.0 else current
            ax.set_xlabel("λ (L2)", fontsize=10)
        else:
            xs = values
            marker = current
            ax.set_xlabel("keep_prob", fontsize=10)
            ax.tick_params(axis="x", labelsize=9)
        ax.plot(xs, sweep.train, "o-", color=_CLASS_COLOURS[1], lw=1.5, ms=5, label="train")
        ax.plot(xs, sweep.dev, "s-", color="#2b8a3e", lw=1.5, ms=5, label="dev (chooses)")
        best = int(np.argmax(sweep.dev))
        ax.plot([xs[best]], [sweep.dev[best]], "*", color="#2b8a3e", ms=14, mec="black",
                label=f"best dev {sweep.dev[best]:.3f}")  # fmt: skip
        ax.axvline(marker, color="black", lw=1, ls=":", label="current setting")
        ax.set_ylabel("accuracy", fontsize=10)
        ax.tick_params(axis="y", labelsize=9)
        ax.set_title(sweep.title, fontsize=10)
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        self.canvas.draw()
        return _encode(self.canvas)
