"""How the explorer stays live: the training thread and the drawing thread.

Every control change bumps a generation counter and hands a job to the
training thread, which runs in chunks and drops a stale run between
them; the drawing thread paints the newest snapshot (a ``Frame``) and
publishes it only while its generation is current. ``LiveRunner`` owns
both threads and the two painters; the counters and frames live in the
app's ``ExplorerState``. Used by the explorer of
``notebooks/Explore_regularization.ipynb`` and of the assignment.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .. import engine
from ..predict import accuracy
from .controls import Controls
from .painters import _MPL_LOCK, BoundaryPainter, CurvesPainter
from .records import ExplorerState, Frame
from .settings import Dataset, Settings, _label, load_dataset
from .student import FunctionCheck, _clean_costs, _StudentTrainer

#: Iterations before the first picture, per backend. The engine does 300 in a few ms; the
#: learner's NumPy functions took 1.5-4 ms per iteration on a loaded 2-core machine, so 300
#: of them held the first picture for ~650 ms: 20 keep it within the 300 ms goal
#: (``make bench`` times it).
_FIRST_CHUNK = {"engine": 300, "student": 20}
_CHUNK_SECONDS = 0.04  # later chunks last about this long: a newer setting waits no longer
_MAX_CHUNK = 5000
_SLOW_CHUNK = 300  # slow motion: one picture every 300 iterations
_FRAME_EVERY = 0.1  # at least this many seconds between pictures of one run (not the first or last)
_CURVES_EVERY = 0.3  # at least this many seconds between redraws of the cost/weights panel
#: Pictures in the middle of a run use at most about this share of the wall time:
#: the pause after one is its drawing time / _PAINT_SHARE. On a loaded machine drawing
#: slows down, so fewer pictures come and training (the finished picture) keeps the CPU.
_PAINT_SHARE = 0.2


class LiveRunner:
    """The training and drawing threads of one explorer (see the module docstring).

    ``show_error(exc, prefix=..., failed=...)`` reports a failure in the
    app; ``after_final_picture()`` runs once the last picture of a run is
    on screen (the app moves the sweep's marker then). ``start()`` starts
    the threads, ``stop()`` joins them once ``state.closed`` is set.
    """

    def __init__(
        self,
        state: ExplorerState,
        controls: Controls,
        initial: dict,
        student_functions: dict,
        checks: dict[str, FunctionCheck],
        *,
        show_error: Callable[..., None],
        after_final_picture: Callable[[], None],
    ):
        self.state = state
        self.controls = controls
        self.initial = initial
        self.student_functions = student_functions
        self.checks = checks
        self.show_error = show_error
        self.after_final_picture = after_final_picture
        self.initial_norms = [float(np.linalg.norm(initial[f"W{k}"])) for k in (1, 2, 3)]
        self.boundary = BoundaryPainter()
        self.curves = CurvesPainter()
        # Drawing thread only: the run whose curves were drawn last, and when they are due again.
        self._curves_generation, self._curves_due = -1, 0.0
        self._threads = [
            threading.Thread(target=self.train_loop, daemon=True, name="explorer-train"),
            threading.Thread(target=self.paint_loop, daemon=True, name="explorer-paint"),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)

    # -- training ----------------------------------------------------------

    def backend_for(self, s: Settings) -> tuple[str, list[str]]:
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

    def restart(self, settings: Settings) -> None:
        """Make every older run stale and queue a run of ``settings``; clear old messages."""
        backend, failing = self.backend_for(settings)
        state = self.state
        with state.lock:
            state.generation += 1
            state.job = Frame(state.generation, settings, None, 0, False, {}, np.empty((0, 4)),
                              backend, time.perf_counter())  # fmt: skip
            state.errors.clear()
            self.controls.error_box.value = ""
            state.wake.notify_all()
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
        self.controls.status.value = html.escape(" ".join(notes))

    def train_loop(self) -> None:
        state = self.state
        while True:
            with state.lock:
                while state.job is None and not state.closed:
                    state.wake.wait()
                if state.closed:
                    return
                job, state.job = state.job, None
            try:
                self.train(job)
            except Exception as exc:
                if state.is_current(job):
                    self.show_error(exc, failed=True)
            finally:
                with state.lock:
                    state.wake.notify_all()

    def train(self, job: Frame) -> None:
        s = job.settings
        data = load_dataset(s)
        record_every = max(1, s.num_iterations // 300)
        trainer = None
        if job.backend == "student":
            trainer = _StudentTrainer(self.student_functions, data, self.initial, s, record_every)
            try:
                self.run(job, data, trainer)
                return
            except Exception as exc:
                if not self.state.is_current(job):
                    return
                self.show_error(exc, prefix="Your functions failed while training, so the "
                                 "kit's engine takes over: ")  # fmt: skip
                job = replace(job, backend="engine")
        trainer = engine.Trainer(
            data.train_X, data.train_Y, self.initial, learning_rate=s.learning_rate,
            lambd=s.effective_lambd, keep_prob=s.effective_keep_prob, seed=s.seed,
            X_test=data.test_X, Y_test=data.test_Y, record_every=record_every,
        )  # fmt: skip
        self.run(job, data, trainer)

    def run(self, job: Frame, data: Dataset, trainer) -> None:
        """Train in chunks, publishing a snapshot after each one, until done or stale.

        The first chunk is short so that the first picture comes fast (shorter
        still with the learner's slower functions); later
        ones last about _CHUNK_SECONDS, few enough that the drawing thread
        (which holds the GIL while matplotlib renders) rarely delays training.
        In slow motion every chunk is 300 iterations and waits for its picture,
        however long drawing takes.
        """
        total = job.settings.num_iterations
        slow = self.controls.slow.value
        chunk = _SLOW_CHUNK if slow else _FIRST_CHUNK[job.backend]
        while trainer.iteration < total:
            if not self.state.is_current(job):
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
            self.publish(frame)
            if slow and not done:
                # Every slow-motion picture is drawn, however busy the machine:
                # wait for it, giving up only when the run goes stale or the app closes.
                while not frame.drawn.wait(0.05):
                    if not self.state.is_current(job):
                        break

    def publish(self, frame: Frame) -> None:
        """Queue ``frame`` for drawing, unless a newer run has made it stale."""
        state = self.state
        with state.lock:
            if state.is_current(frame):
                state.pending = frame
                state.last = frame
                state.wake.notify_all()

    def redraw(self) -> None:
        """Draw the finished run again (a view-only change, such as "show test points")."""
        state = self.state
        with state.lock:
            state.view_version += 1
            if state.last is not None and state.last.done:
                self.publish(state.last)

    # -- drawing -----------------------------------------------------------

    def paint_loop(self) -> None:
        """Draw the newest snapshot; the first and last pictures of a run at once, others paced.

        Between two pictures of one run the thread waits at least
        _FRAME_EVERY s, and longer when drawing is slow (see _PAINT_SHARE):
        the pause leaves the CPU to training, which shares this machine's
        cores with the kernel, the server and the browser.
        """
        state = self.state
        painted_generation, due = -1, 0.0
        while True:
            with state.lock:
                while state.pending is None and not state.closed:
                    state.wake.wait()
                if state.closed:
                    return
                frame = state.pending
                hold = due - time.perf_counter()
                if not frame.done and frame.generation == painted_generation and hold > 0:
                    state.wake.wait(hold)
                    continue
                state.pending = None
                view = state.view_version
            started = time.perf_counter()
            try:
                self.paint(frame, view)
            except Exception as exc:
                if state.is_current(frame):
                    self.show_error(exc, failed=frame.done)
            finally:
                frame.drawn.set()
            painted_generation = frame.generation
            due = started + _pause(time.perf_counter() - started, _FRAME_EVERY)

    def paint(self, frame: Frame, view: int) -> None:
        """Draw ``frame``: the boundary first (the picture people wait for), then the curves."""
        state, controls = self.state, self.controls
        if not state.is_current(frame):
            return
        show_test = controls.show_test.value
        with _MPL_LOCK:
            png = self.boundary.paint(frame.parameters, frame.data, show_test)
        data = frame.data
        train_acc = accuracy(data.train_X, data.train_Y, frame.parameters)
        test_acc = accuracy(data.test_X, data.test_Y, frame.parameters)
        with state.lock:
            if not state.is_current(frame):
                return
            controls.image.value = png
            controls.caption.value = _caption(frame, show_test)
            controls.accuracy.value = (
                f'<div class="rex-accuracy-values" data-train="{train_acc!r}" '
                f'data-test="{test_acc!r}">Train accuracy <b>{100 * train_acc:.1f} %</b> '
                f"· test accuracy <b>{100 * test_acc:.1f} %</b></div>"
            )
        started = time.perf_counter()
        if frame.done or frame.generation != self._curves_generation or started >= self._curves_due:
            with _MPL_LOCK:
                curves = self.curves.paint(frame, self.initial_norms)
            self._curves_generation = frame.generation
            self._curves_due = started + _pause(time.perf_counter() - started, _CURVES_EVERY)
            with state.lock:
                if not state.is_current(frame):
                    return
                controls.curves_image.value = curves
        if frame.done:
            self.after_final_picture()
        if frame.done and "Compiling" in controls.status.value:
            controls.status.value = controls.status.value.split("Compiling")[0].strip()
        with state.lock:
            if state.is_current(frame):
                state.shown = frame
                state.shown_view = view
                state.shown_accuracy = (train_acc, test_acc)
                state.wake.notify_all()


def _pause(took: float, least: float) -> float:
    """Seconds from the start of one drawing to the next: ``least``, or more when drawing took long."""
    return max(least, took / _PAINT_SHARE)


def _caption(frame: Frame, show_test: bool) -> str:
    """The HTML under the picture, with the run's values as data attributes for tests."""
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
