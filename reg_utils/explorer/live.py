"""How the explorer stays live: the training thread and the drawing thread.

Every control change bumps a generation counter and hands a job to the
training thread, which runs in chunks and drops a stale run between
them; the drawing thread paints the newest snapshot (a ``Frame``) and
publishes it only while its generation is current. ``_LiveMixin`` holds
these methods of ``RegularizationExplorer``. Used by the explorer of
``notebooks/Explore_regularization.ipynb`` and of the assignment.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .. import engine
from ..predict import accuracy
from .painters import _MPL_LOCK
from .settings import Dataset, Settings, _label, load_dataset
from .student import _clean_costs, _StudentTrainer

_FIRST_CHUNK = 300  # iterations before the first picture
_CHUNK_SECONDS = 0.04  # later chunks last about this long: a newer setting waits no longer
_MAX_CHUNK = 5000
_SLOW_CHUNK = 300  # slow motion: one picture every 300 iterations
_CURVES_EVERY = 0.25  # seconds between redraws of the cost/weights panel
_FRAME_EVERY = 0.08  # seconds between pictures of one run (the first and last are not held)
_WAIT = 60.0  # upper bound of every internal wait, seconds


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


class _LiveMixin:
    """Training and drawing threads of ``RegularizationExplorer`` (see the module docstring)."""

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
        self._follow_settings(settings)
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
        In slow motion every chunk is 300 iterations and waits for its picture,
        however long drawing takes.
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
                # Every slow-motion picture is drawn, however busy the machine:
                # wait for it, giving up only when the run goes stale or the app closes.
                while not frame.drawn.wait(0.05):
                    if not self._is_current(job):
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
