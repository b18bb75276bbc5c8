"""Every figure of the assignment notebook, drawn by code.

Each function takes an optional matplotlib ``ax`` so that the explorer can
draw into its own Agg figures; without one it draws on ``plt.gca()``.
No maths lives here beyond evaluating a model on a grid.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Circle, Rectangle

#: Field area the assignment zooms into: ``axes.set_xlim([-0.75, 0.40])`` etc.
FIELD_XLIM = (-0.75, 0.40)
FIELD_YLIM = (-0.75, 0.65)

_GRID_POINTS = 300  # per axis: smooth boundaries, ~0.1 s per plot


def _labels(y) -> np.ndarray:
    return np.asarray(y).ravel()


def draw_points(ax, X, y, *, marker="o", size=40, edgecolor="none", label=None):
    """Scatter the columns of X (2, m), coloured by 0/1 label (red 0, blue 1)."""
    return ax.scatter(
        X[0], X[1], c=_labels(y), s=size, cmap=plt.cm.Spectral, vmin=0, vmax=1,
        marker=marker, edgecolors=edgecolor, label=label,
    )  # fmt: skip


def grid_over(ax, X, margin: float = 0.1, points: int = _GRID_POINTS):
    """Return a meshgrid covering the axes' fixed limits, or the data plus a margin."""
    if ax.get_autoscalex_on():
        x_lo, x_hi = X[0].min() - margin, X[0].max() + margin
    else:
        x_lo, x_hi = ax.get_xlim()
    if ax.get_autoscaley_on():
        y_lo, y_hi = X[1].min() - margin, X[1].max() + margin
    else:
        y_lo, y_hi = ax.get_ylim()
    return np.meshgrid(np.linspace(x_lo, x_hi, points), np.linspace(y_lo, y_hi, points))


def draw_decision_boundary(ax, model, X, y, *, show_points=True):
    """Shade where ``model`` (rows of (x1, x2) -> 0/1) says blue or red, then draw the points.

    Limits the caller fixed beforehand (``set_xlim``/``set_ylim``) are kept:
    the grid is laid over them rather than over the whole data.
    """
    xx, yy = grid_over(ax, X)
    decisions = np.asarray(model(np.c_[xx.ravel(), yy.ravel()]), dtype=float)
    ax.contourf(xx, yy, decisions.reshape(xx.shape), levels=[-0.5, 0.5, 1.5],
                cmap=plt.cm.Spectral, vmin=0, vmax=1, alpha=0.8)  # fmt: skip
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if show_points:
        draw_points(ax, X, y, edgecolor="k")
    return ax


def plot_decision_boundary(model, X, y):
    """The assignment's call: draw the boundary of ``model`` on the current axes and show it.

    ``model`` maps an (N, 2) array of points to N decisions, e.g.
    ``lambda x: predict_dec(parameters, x.T)``. Used in sections 1-3.
    """
    draw_decision_boundary(plt.gca(), model, X, y)
    plt.show()


def plot_dataset(X, y, title="The football data: where the ball was headed"):
    """Scatter the training points on the field area (notebook section "The dataset")."""
    ax = plt.gca()
    draw_points(ax, X, y, edgecolor="k")
    ax.set_xlim(FIELD_XLIM)
    ax.set_ylim(FIELD_YLIM)
    ax.set_xlabel("x1 (along the field)")
    ax.set_ylabel("x2 (across the field)")
    ax.set_title(title)
    plt.show()


_PITCH = (-1.6, 1.6, -1.0, 1.0)  # left, right, bottom, top in the data's coordinates
_GOALKEEPER = (_PITCH[0] + 0.08, 0.0)


def draw_pitch(ax):
    """A pitch seen from above, with the French goalkeeper in the left goal."""
    left, right, bottom, top = _PITCH
    ax.add_patch(Rectangle((left - 0.1, bottom - 0.1), right - left + 0.2, top - bottom + 0.2,
                           color="#3f8f3f", zorder=0))  # fmt: skip
    line = {"color": "white", "linewidth": 2, "fill": False, "zorder": 1}
    ax.add_patch(Rectangle((left, bottom), right - left, top - bottom, **line))
    ax.plot([0, 0], [bottom, top], color="white", linewidth=2, zorder=1)
    ax.add_patch(Circle((0, 0), 0.25, **line))
    for side, sign in ((left, 1), (right, -1)):
        ax.add_patch(Rectangle((side, -0.45) if sign > 0 else (side - 0.45, -0.45),
                               0.45, 0.9, **line))  # fmt: skip
        ax.add_patch(Rectangle((side, -0.15) if sign > 0 else (side - 0.15, -0.15),
                               0.15, 0.3, **line))  # fmt: skip
    ax.plot([left - 0.06] * 2, [-0.12, 0.12], color="white", linewidth=5, zorder=1)
    ax.scatter(*_GOALKEEPER, s=160, marker="^", color="gold", edgecolors="k",
               zorder=4, label="French goalkeeper")  # fmt: skip
    ax.set_xlim(left - 0.1, right + 0.1)
    ax.set_ylim(bottom - 0.1, top + 0.1)
    ax.set_aspect("equal")
    ax.set_axis_off()


def plot_football_field(X, y):
    """The pitch with the headers on it: blue where France won the ball.

    The goalkeeper kicks from the goal on the left; the data live in the
    half he kicks into. Used in the notebook's problem statement.
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    draw_pitch(ax)
    ax.annotate("kick", xy=(-0.9, 0.15), xytext=(_PITCH[0] + 0.15, 0.25), color="gold", fontweight="bold",
                arrowprops={"arrowstyle": "->", "color": "gold", "lw": 2})  # fmt: skip
    points = draw_points(ax, X, y, size=26, edgecolor="white")
    points.set_zorder(2)
    ax.set_title("Headers after the goalkeeper's kick: blue = French player, red = opponent")
    ax.legend(loc="lower right", fontsize=8)
    plt.show()


def kick_target(model, points: int = 200) -> tuple[float, float]:
    """Where to aim: the centre of the zone, inside the data area, where ``model`` predicts blue.

    If that centre falls outside the zone (a crescent-shaped zone), the
    blue grid point nearest to it is returned instead.
    """
    xx, yy = np.meshgrid(np.linspace(*FIELD_XLIM, points), np.linspace(*FIELD_YLIM, points))
    grid = np.c_[xx.ravel(), yy.ravel()]
    blue = np.asarray(model(grid), dtype=bool).ravel()
    if not blue.any():
        raise ValueError("the model predicts no French header anywhere in the data area")
    centre = grid[blue].mean(axis=0)
    nearest = grid[blue][np.argmin(np.sum((grid[blue] - centre) ** 2, axis=1))]
    return float(nearest[0]), float(nearest[1])


def plot_kick_target(model, X, y, title="Recommendation: aim the kick here"):
    """The pitch with the model's French zone shaded and an arrow from the goalkeeper to its centre.

    Used in the notebook's Conclusions; returns the aim point (x1, x2).
    """
    fig, ax = plt.subplots(figsize=(8, 5))
    draw_pitch(ax)
    xx, yy = np.meshgrid(np.linspace(*FIELD_XLIM, _GRID_POINTS), np.linspace(*FIELD_YLIM, _GRID_POINTS))
    blue = np.asarray(model(np.c_[xx.ravel(), yy.ravel()]), dtype=float).reshape(xx.shape)
    ax.contourf(xx, yy, blue, levels=[0.5, 1.5], colors=["#5e9fd8"], alpha=0.55, zorder=1)
    ax.contour(xx, yy, blue, levels=[0.5], colors="white", linewidths=1, linestyles="--", zorder=1)
    points = draw_points(ax, X, y, size=18, edgecolor="white")
    points.set_zorder(2)
    target = kick_target(model)
    ax.annotate("", xy=target, xytext=_GOALKEEPER, zorder=5,
                arrowprops={"arrowstyle": "-|>", "color": "gold", "lw": 3})  # fmt: skip
    ax.scatter(*target, s=260, marker="*", color="gold", edgecolors="k", zorder=5,
               label=f"aim point ({target[0]:.2f}, {target[1]:.2f})")  # fmt: skip
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=9)
    plt.show()
    return target


def plot_costs(costs, learning_rate, ax=None):
    """The cost recorded every 1000 iterations, with the assignment's labels."""
    ax = ax or plt.gca()
    ax.plot(costs)
    ax.set_ylabel("cost")
    ax.set_xlabel("iterations (x1,000)")
    ax.set_title(f"Learning rate = {learning_rate}")
    if ax is plt.gca():
        plt.show()


def plot_weight_norms(models: dict):
    """Bar chart, and a printed table, of ||W1||, ||W2||, ||W3|| (Frobenius) per named trained model.

    Used in section 2 (two models) and in the Conclusions (all of them).
    """
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(models)
    layers = ("W1", "W2", "W3")
    width = 0.8 / len(names)
    label_width = max(len(name) for name in names)
    for k, name in enumerate(names):
        norms = [np.linalg.norm(models[name][key]) for key in layers]
        bars = ax.bar(np.arange(3) + k * width, norms, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
        sizes = "  ".join(f"||{key}|| = {v:6.3f}" for key, v in zip(layers, norms, strict=True))
        print(f"{name:<{label_width}}  {sizes}")
    ax.set_xticks(np.arange(3) + width * (len(names) - 1) / 2, layers)
    ax.set_ylabel("Frobenius norm")
    ax.set_title("Weight size after training")
    ax.legend()
    plt.show()


def plot_dropout_network(masks_by_iteration: dict, layer_sizes=(2, 20, 3, 1)):
    """Draw the network once per iteration, crossing out the hidden units whose mask is 0.

    ``masks_by_iteration`` maps a label such as "Iteration 1" to (D1, D2), the
    boolean masks of hidden layers 1 and 2 for one example. Used in section 3.
    """
    n_panels = len(masks_by_iteration)
    fig, axes = plt.subplots(1, n_panels, figsize=(5 * n_panels, 5), squeeze=False)
    scale = max(layer_sizes) / 2
    positions = [
        np.column_stack([np.full(n, x), ((n - 1) / 2 - np.arange(n)) / scale])
        for x, n in enumerate(layer_sizes)
    ]
    for ax, (label, (D1, D2)) in zip(axes[0], masks_by_iteration.items(), strict=True):
        keep = [np.ones(layer_sizes[0], bool), np.ravel(D1).astype(bool), np.ravel(D2).astype(bool),
                np.ones(layer_sizes[-1], bool)]  # fmt: skip
        for alive, colour, width in ((False, "0.9", 0.2), (True, "0.55", 0.4)):
            segments = [
                (positions[layer][a], positions[layer + 1][b])
                for layer in range(len(layer_sizes) - 1)
                for a in range(layer_sizes[layer])
                for b in range(layer_sizes[layer + 1])
                if (keep[layer][a] and keep[layer + 1][b]) == alive
            ]
            ax.add_collection(LineCollection(segments, colors=colour, linewidths=width, zorder=0))
        units, kept = np.vstack(positions), np.concatenate(keep)
        ax.scatter(*units[kept].T, s=70, zorder=2, edgecolors="k", color="#4c72b0")
        ax.scatter(*units[~kept].T, s=70, zorder=2, edgecolors="k", color="white")
        ax.scatter(*units[~kept].T, s=90, zorder=3, marker="x", color="crimson", linewidths=2)
        ax.set_title(f"{label}: {int((~kept).sum())} hidden units dropped")
        ax.set_xticks(range(len(layer_sizes)), ["input", "hidden 1", "hidden 2", "output"])
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    plt.show()
