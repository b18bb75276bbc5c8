"""The explorer's sweep: train once per lambda or keep_prob of a grid, plot the accuracies.

``Sweeper`` runs the "Sweep" button: its thread, its picture, and hiding a
sweep made for other settings; the result it keeps is the app's
``ExplorerState.sweep`` (a ``SweepResult``). Used by the explorer of
``notebooks/Explore_regularization.ipynb`` and of the assignment.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from .. import engine
from ..errors import RegularizationInputError
from ..predict import accuracy
from .controls import Controls
from .painters import _MPL_LOCK, SweepPainter
from .records import WAIT, ExplorerState, SweepResult
from .settings import SWEEP_KEEP_PROBS, SWEEP_LAMBDAS, Settings, _label, load_dataset

#: Settings a sweep depends on: when one of them changes, the sweep on screen is stale.
_SWEEP_INPUTS = ("dataset", "noise", "train_share", "regularizer", "learning_rate", "num_iterations", "seed")


def sweepable(regularizer: str) -> list[tuple[str, str]]:
    """The (label, parameter) choices of the sweep toggle for a regularizer: only what it uses."""
    choices = {"L2": ["lambd"], "dropout": ["keep_prob"]}.get(regularizer, ["lambd", "keep_prob"])
    return [("λ" if name == "lambd" else "keep_prob", name) for name in choices]


class Sweeper:
    """The sweep of one explorer: its button's thread, its picture and its status line.

    ``show_error(exc, prefix=...)`` reports a failed sweep in the app.
    """

    def __init__(self, state: ExplorerState, controls: Controls, initial: dict, *,
                 show_error: Callable[..., None]):  # fmt: skip
        self.state = state
        self.controls = controls
        self.initial = initial
        self.show_error = show_error
        self.painter = SweepPainter()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start a sweep of the current settings in the background (the Sweep button)."""
        controls, state = self.controls, self.state
        settings = controls.settings.validated()
        parameter = controls.sweep_parameter.value
        with state.lock:
            state.sweep_generation += 1
            token = state.sweep_generation
        controls.sweep_button.disabled = True
        controls.sweep_status.value = "Sweeping…"
        thread = threading.Thread(target=self._sweep_thread, args=(settings, parameter, token),
                                  daemon=True, name="explorer-sweep")  # fmt: skip
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)

    def run(self, parameter: str = "lambd", settings: Settings | None = None) -> SweepResult:
        """Train once per grid value of ``parameter`` ("lambd" or "keep_prob"); return accuracies.

        Uses the kit's engine, the current dataset, learning rate, iterations
        and seed. Sweeping lambda keeps keep_prob as set when the regularizer
        is dropout or both (else 1); sweeping keep_prob keeps lambda likewise.
        """
        s = (settings or self.controls.settings).validated()
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
                    if self.state.closed:
                        return
                    lambd, keep_prob = runs[index]
                    params, _ = engine.train(
                        data.train_X, data.train_Y, self.initial, s.learning_rate,
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
            worker.join(timeout=10 * WAIT)
        if failures:
            raise failures[0]
        if any(result is None for result in results):
            raise RuntimeError("the sweep stopped before the end (app closed or too slow)")
        return SweepResult(parameter, tuple(grid), [r[0] for r in results], [r[1] for r in results],
                           [r[2] for r in results], s, f"{title} ({s.dataset})")  # fmt: skip

    def follow_settings(self, s: Settings) -> None:
        """Offer only the sweeps the regularizer uses; hide a sweep made for other settings."""
        controls, state = self.controls, self.state
        choices = sweepable(s.regularizer)
        if list(controls.sweep_parameter.options) != choices:
            keep = controls.sweep_parameter.value
            controls.sweep_parameter.options = choices
            controls.sweep_parameter.value = keep if keep in [v for _, v in choices] else choices[0][1]
        stale = state.sweep is not None and any(
            getattr(state.sweep.settings, name) != getattr(s, name) for name in _SWEEP_INPUTS
        )
        if stale:
            with state.lock:
                state.sweep_generation += 1  # a sweep still running is dropped too
                state.sweep = None
            controls.sweep_image.layout.display = "none"
            controls.sweep_status.value = "Settings changed: press Sweep again for a new curve."
            controls.sweep_button.disabled = False

    def _sweep_thread(self, settings: Settings, parameter: str, token: int) -> None:
        state = self.state
        try:
            result = self.run(parameter, settings)
            with state.lock:
                if token != state.sweep_generation or state.closed:
                    return
                state.sweep = result
            self.paint()
        except Exception as exc:
            self.show_error(exc, prefix="The sweep failed: ")
            self.controls.sweep_status.value = ""
        finally:
            with state.lock:
                if token == state.sweep_generation:
                    self.controls.sweep_button.disabled = False
                    state.wake.notify_all()

    def _current(self) -> float:
        sweep = self.state.sweep
        if sweep is None:
            return math.nan
        controls = self.controls
        return float(controls.lambd.value if sweep.parameter == "lambd" else controls.keep_prob.value)

    def follow_marker(self) -> None:
        """Move the picture's "current setting" line to the current value, if it is elsewhere."""
        if self.state.sweep is not None and self.state.sweep_marker != self._current():
            self.paint()

    def paint(self) -> None:
        """Draw the sweep on screen with the current value marked, and its status line."""
        controls = self.controls
        result = self.state.sweep
        if result is None:
            return
        current = self._current()
        self.state.sweep_marker = current
        with _MPL_LOCK:
            controls.sweep_image.value = self.painter.paint(result, float(current))
        controls.sweep_image.layout.display = None
        name = "λ" if result.parameter == "lambd" else "keep_prob"
        best = result.best
        best_label = "off" if (result.parameter == "lambd" and best == 0) else _label(best)
        controls.sweep_status.value = (
            f'<span class="rex-sweep-values" data-parameter="{result.parameter}" '
            f'data-best="{best!r}">Highest dev accuracy {max(result.dev):.3f} at {name} = '
            f"{best_label}: the value to choose. (Kit engine, {result.settings.dataset}, "
            f"{result.settings.num_iterations} iterations; the test set is not used.)</span>"
        )
