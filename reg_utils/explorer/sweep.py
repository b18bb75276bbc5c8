"""The explorer's sweep: train once per lambda or keep_prob of a grid, plot the accuracies.

``_SweepMixin`` holds the "Sweep" button's methods of
``RegularizationExplorer``; ``SweepResult`` is what a sweep returns. Used
by the explorer of ``notebooks/Explore_regularization.ipynb`` and of the
assignment.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from .. import engine
from ..errors import RegularizationInputError
from ..predict import accuracy
from .controls import _guarded
from .live import _WAIT
from .painters import _MPL_LOCK
from .settings import SWEEP_KEEP_PROBS, SWEEP_LAMBDAS, Settings, _label, load_dataset


@dataclass
class SweepResult:
    """Accuracies of one sweep: parameter is "lambd" or "keep_prob".

    ``dev`` decides (``best``); ``test`` is kept for the record but shown by
    no picture, so that the test set plays no part in choosing a value.
    """

    parameter: str
    values: tuple
    train: list
    dev: list
    test: list
    settings: Settings
    title: str = ""

    @property
    def best(self) -> float:
        """The swept value with the highest dev accuracy (the first one on ties)."""
        return self.values[int(np.argmax(self.dev))]


#: Settings a sweep depends on: when one of them changes, the sweep on screen is stale.
_SWEEP_INPUTS = ("dataset", "noise", "train_share", "regularizer", "learning_rate", "num_iterations", "seed")


def sweepable(regularizer: str) -> list[tuple[str, str]]:
    """The (label, parameter) choices of the sweep toggle for a regularizer: only what it uses."""
    choices = {"L2": ["lambd"], "dropout": ["keep_prob"]}.get(regularizer, ["lambd", "keep_prob"])
    return [("λ" if name == "lambd" else "keep_prob", name) for name in choices]


class _SweepMixin:
    """The sweep of ``RegularizationExplorer``: its button, thread and picture."""

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
                                      accuracy(data.dev_X, data.dev_Y, params),
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
        return SweepResult(parameter, tuple(grid), [r[0] for r in results], [r[1] for r in results],
                           [r[2] for r in results], s, f"{title} ({s.dataset})")  # fmt: skip

    def _follow_settings(self, s: Settings) -> None:
        """Offer only the sweeps the regularizer uses; hide a sweep made for other settings."""
        choices = sweepable(s.regularizer)
        if list(self.sweep_parameter.options) != choices:
            keep = self.sweep_parameter.value
            self.sweep_parameter.options = choices
            self.sweep_parameter.value = keep if keep in [v for _, v in choices] else choices[0][1]
        stale = self.sweep is not None and any(
            getattr(self.sweep.settings, name) != getattr(s, name) for name in _SWEEP_INPUTS
        )
        if stale:
            with self._lock:
                self._sweep_generation += 1  # a sweep still running is dropped too
                self.sweep = None
            self.sweep_image.layout.display = "none"
            self.sweep_status.value = "Settings changed: press Sweep again for a new curve."
            self.sweep_button.disabled = False

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
            f'data-best="{best!r}">Highest dev accuracy {max(result.dev):.3f} at {name} = '
            f"{best_label}: the value to choose. (Kit engine, {result.settings.dataset}, "
            f"{result.settings.num_iterations} iterations; the test set is not used.)</span>"
        )
