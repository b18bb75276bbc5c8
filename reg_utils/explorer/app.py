"""The explorer app: ``RegularizationExplorer`` and ``show_explorer()``.

The class puts the pieces together (widgets from ``controls``, threads
from ``live``, the sweep from ``sweep``) and shows messages. Used by
``notebooks/Explore_regularization.ipynb`` (also served by ``make
explore``) and by the last section "Explore" of ``Regularization.ipynb``.
"""

from __future__ import annotations

import html
import math
import os
import threading
import time
import traceback

import numpy as np

from .. import engine
from ..errors import RegularizationInputError
from .controls import _ControlsMixin
from .live import _WAIT, Frame, _LiveMixin
from .painters import BoundaryPainter, CurvesPainter, SweepPainter
from .settings import Settings, initial_parameters
from .student import STUDENT_FUNCTION_NAMES, FunctionCheck, check_student_functions
from .sweep import SweepResult, _SweepMixin

# Compile the engine now, in the background: the first slider move must not wait for it.
# Not while grading: the app does not start then, and a grading sandbox hides the engine.
if not os.environ.get("NBGRADER_EXECUTION"):
    engine.warm_up()


# ---------------------------------------------------------------------------
# The app.
# ---------------------------------------------------------------------------


class RegularizationExplorer(_ControlsMixin, _LiveMixin, _SweepMixin):
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
