"""The notebook's training story: reporting runs, choosing on the dev set, one look at the test set.

The assignment's sections 1-3 each train a model, print its accuracies and
draw its boundary; section 4 compares them, tunes lambd and keep_prob on
the dev set and reports the test set once, for the recommended model.
These helpers keep those cells to a line or two and stop a cell with one
sentence (``NotebookStop``) when an earlier step did not produce what it needs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from .errors import RegularizationInputError
from .plotting import (
    FIELD_XLIM,
    FIELD_YLIM,
    draw_decision_boundary,
    plot_costs,
    plot_kick_target,
    plot_weight_norms,
)
from .predict import accuracy, predict_dec
from .report import accuracy_table

#: The network every run trains: 2 inputs, hidden layers of 20 and 3 units, 1 output.
LAYER_SIZES = (2, 20, 3, 1)


def grading_run() -> bool:
    """True while nbgrader (or the kit's grader) executes the notebook: training is then shortened."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def skipped_when_grading(show: Callable, note: bool = True) -> Callable:
    """``show``, or (with ``note``) a one-line note instead of it while grading.

    Graded runs train 300 iterations instead of 30000, so their accuracies and
    charts would contradict the text around them; the feedback says so instead.
    """

    @functools.wraps(show)
    def guarded(*args, **kwargs):
        if grading_run():
            if note:
                print(f"(Autograder run: {show.__name__} skipped, since training was shortened; "
                      "your own notebook shows the real figures.)")  # fmt: skip
            return None
        return show(*args, **kwargs)

    return guarded


class NotebookStop(RegularizationInputError):
    """An earlier cell did not leave what this one needs; IPython shows only the message."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{self}\x1b[0m"]


def require_trained(parameters, what: str = "parameters") -> dict:
    """Return ``parameters`` if they are a trained [2, 20, 3, 1] network, else stop with one sentence.

    After a failed training cell, ``parameters`` still holds the last test
    fixture (a 3-input network); drawing or scoring it would fail deep in NumPy.
    """
    shapes = [(LAYER_SIZES[k + 1], LAYER_SIZES[k]) for k in range(3)]
    try:
        found = [np.shape(parameters[f"W{k}"]) for k in (1, 2, 3)]
    except (KeyError, TypeError, IndexError):
        found = None
    if found != shapes:
        raise NotebookStop(
            f"`{what}` is not a network trained on the football data (it looks like a test "
            "fixture): the training cell above did not finish. Fix the error shown there, "
            "run that cell again, then this one."
        )
    return parameters


@skipped_when_grading
def report_accuracies(parameters, train: tuple, dev: tuple) -> tuple[float, float]:
    """Print and return the accuracy on the training set and on the dev set (12 significant digits)."""
    require_trained(parameters)
    scores = accuracy(*train, parameters), accuracy(*dev, parameters)
    for name, score in zip(("training set", "dev set"), scores, strict=True):
        print(f"Accuracy on the {name}:".ljust(30) + f"{score:.12g}")
    return scores


@skipped_when_grading
def show_boundary(parameters, X, Y, title: str) -> None:
    """Draw where the trained network predicts a French header (blue) over the points X, Y."""
    require_trained(parameters)
    fig, ax = plt.subplots()
    ax.set_xlim(FIELD_XLIM)
    ax.set_ylim(FIELD_YLIM)
    draw_decision_boundary(ax, lambda points: predict_dec(parameters, points.T), X, Y)
    ax.set_title(title)
    plt.show()


@dataclass
class Candidate:
    """One tuning run: its setting, its dev accuracy and the network it trained."""

    name: str
    setting: dict
    dev_accuracy: float
    parameters: dict


def tune_on_dev(
    train_model: Callable, train: tuple, dev: tuple, lambdas=(0.1, 0.3, 0.7, 1.5),
    keep_probs=(0.7, 0.8, 0.86, 0.95),
) -> Candidate | None:  # fmt: skip
    """Train one model per lambd and per keep_prob with ``train_model``; print and return the dev winner.

    ``train_model`` is the notebook's ``model``, so the runs use the learner's
    own functions. Only the dev set is scored here: the test set stays unseen.
    Under the autograder (which shortens every run) the sweep is skipped, with
    a note, because a 300-iteration ranking would mean nothing.
    """
    if grading_run():
        print("(Autograder run: the dev-set sweep is skipped; it earns no points.)")
        return None
    settings = [{"lambd": v} for v in lambdas] + [{"keep_prob": v} for v in keep_probs]
    results = []
    for setting in settings:
        ((key, value),) = setting.items()
        name = f"L2, lambda = {value}" if key == "lambd" else f"dropout, keep_prob = {value}"
        parameters = require_trained(train_model(*train, print_cost=False, **setting))
        results.append(Candidate(name, setting, accuracy(*dev, parameters), parameters))
        print(f"{name:<26} dev accuracy {results[-1].dev_accuracy:.3f}")
    best = max(results, key=lambda c: c.dev_accuracy)  # the first of equals: the earliest tried
    print(f"Chosen on the dev set: {best.name}")
    return best


def report_test_once(candidate: Candidate | None, test: tuple) -> float | None:
    """Print the test accuracy of the chosen model: the one time the notebook scores the test set."""
    if candidate is None:
        print("(No model was chosen, so the test set stays unscored.)")
        return None
    score = accuracy(*test, require_trained(candidate.parameters, "the chosen model"))
    print(f"{candidate.name}: test accuracy {score:.3f} on {np.shape(test[1])[1]} unseen headers")
    return score


def recommend_kick(candidate: Candidate | None, X, Y) -> tuple[float, float] | None:
    """Draw the pitch with the chosen network's French zone and the aim point; return that point."""
    if candidate is None:
        print("(No model was chosen, so there is no recommendation to draw.)")
        return None
    parameters = require_trained(candidate.parameters, "the chosen model")
    title = f"Aim here: the centre of the French zone ({candidate.name})"
    target = plot_kick_target(lambda points: predict_dec(parameters, points.T), X, Y, title=title)
    print(f"Aim the kick at x1 = {target[0]:.2f}, x2 = {target[1]:.2f}.")
    return target


#: The weight-norm chart and the accuracy table, left out of graded runs like the figures above;
#: the cost curve too, silently (the shortened run already says it was shortened).
show_weight_norms = skipped_when_grading(plot_weight_norms)
compare_models = skipped_when_grading(accuracy_table)
show_costs = skipped_when_grading(plot_costs, note=False)
