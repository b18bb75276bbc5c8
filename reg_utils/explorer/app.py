"""The explorer app: ``RegularizationExplorer`` and ``show_explorer()``.

The class owns the pieces and wires them together: the widgets
(``controls.Controls``), the training and drawing threads
(``live.LiveRunner``), the sweep (``sweep.Sweeper``) and the one
``records.ExplorerState`` they all read and write. It also shows
messages and offers the methods scripts and tests use. Used by
``notebooks/Explore_regularization.ipynb`` (also served by ``make
explore``) and by the last section "Explore" of ``Regularization.ipynb``.
"""

from __future__ import annotations

import functools
import html
import os
import time
import traceback
from collections.abc import Callable

from .. import engine
from ..errors import RegularizationInputError
from .controls import Controls
from .live import LiveRunner
from .records import WAIT, ExplorerState, Frame, SweepResult
from .settings import Settings, initial_parameters
from .student import STUDENT_FUNCTION_NAMES, FunctionCheck, check_student_functions
from .sweep import Sweeper

# Compile the engine now, in the background: the first slider move must not wait for it.
# Not while grading: the app does not start then, and a grading sandbox hides the engine.
if not os.environ.get("NBGRADER_EXECUTION"):
    engine.warm_up()


# ---------------------------------------------------------------------------
# The app.
# ---------------------------------------------------------------------------


#: Widgets of ``Controls`` that scripts and tests reach as attributes of the app.
_WIDGETS = frozenset({
    "widget", "regularizer", "lambd", "keep_prob", "learning_rate", "num_iterations", "dataset",
    "noise", "train_share", "seed", "show_test", "slow", "image", "curves_image", "caption",
    "accuracy", "status", "error_box", "notes", "link", "sweep_parameter", "sweep_button",
    "sweep_status", "sweep_image",
})  # fmt: skip


class RegularizationExplorer:
    """The explorer app; ``widget`` is what gets displayed.

    Build it with ``show_explorer()``. For scripts and tests: ``set()``
    changes several controls at once, ``wait()`` blocks until the picture
    for the current values is on screen, ``shown`` is the Frame it was
    drawn from, ``close()`` stops the threads. The widgets are those of
    ``controls`` and can be reached on the app too (``app.lambd``).
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
        self.state = ExplorerState()
        self._initial = initial_parameters()
        base = Settings(**settings).validated()
        problems: list[str] = []
        if query:
            base, problems = Settings.from_query(query, base)
        self._url_state = url_state
        self.controls = Controls(
            base,
            on_training_change=self._guarded(lambda: self._restart()),
            on_view_change=self._guarded(lambda: self.live.redraw()),
            on_sweep_parameter=self._guarded(lambda: self.sweeper.paint()),
            on_sweep=self._guarded(lambda: self.sweeper.start()),
        )
        self.checks: dict[str, FunctionCheck] = {}
        self.student_functions = dict(student_functions or {})
        if student_functions is not None:
            self.checks = check_student_functions(self.student_functions)
        self._show_notes()
        self.sweeper = Sweeper(self.state, self.controls, self._initial, show_error=self._show_error)
        self.live = LiveRunner(self.state, self.controls, self._initial, self.student_functions,
                               self.checks, show_error=self._show_error,
                               after_final_picture=self.sweeper.follow_marker)  # fmt: skip
        self.live.start()
        if start:
            self._restart()
        for problem in problems:  # after _restart, which clears the messages of older runs
            self._show_error(RegularizationInputError(problem))

    def __getattr__(self, name: str):
        # Only reached for names the app itself lacks: the widgets live on ``controls``.
        controls = self.__dict__.get("controls")
        if name in _WIDGETS and controls is not None:
            return getattr(controls, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _repr_mimebundle_(self, **kwargs):
        return self.controls.widget._repr_mimebundle_(**kwargs)

    # -- wiring --------------------------------------------------------------

    def _guarded(self, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback`` for a widget event, showing any exception in the app instead of losing it."""

        @functools.wraps(callback)
        def guarded() -> None:
            try:
                callback()
            except Exception as exc:
                self._show_error(exc)

        return guarded

    def _restart(self) -> None:
        """Retrain for the values the controls show now (every control change comes here)."""
        settings = self.controls.settings.validated()
        self.controls.sync_enabled(settings)
        self.sweeper.follow_settings(settings)
        self.live.restart(settings)
        if self._url_state:
            self.controls.link.value = (f'<a class="rex-link" href="?{html.escape(settings.query())}" '
                                        'target="_self">link to these settings</a>')  # fmt: skip

    # -- messages ----------------------------------------------------------

    def _show_notes(self) -> None:
        notes = self.controls.notes
        if not self.checks:
            notes.value = ""
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
        notes.value = (
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
        state = self.state
        with state.lock:
            if failed:
                state.failed_generation = state.generation
            state.errors.append(text)
            self.controls.error_box.value = "".join(
                f'<div class="rex-error" style="color:#c92a2a">⚠ {html.escape(t)}</div>' for t in state.errors
            )
            state.wake.notify_all()

    # -- for scripts and tests ---------------------------------------------

    @property
    def shown(self) -> Frame | None:
        """The frame the picture on screen was drawn from."""
        return self.state.shown

    @property
    def shown_accuracy(self) -> tuple[float, float] | None:
        """(train, test) accuracy printed under the picture on screen."""
        return self.state.shown_accuracy

    @property
    def sweep(self) -> SweepResult | None:
        """The sweep on screen; None before the first one and once the settings it used change."""
        return self.state.sweep

    @property
    def errors(self) -> list[str]:
        """The messages in the app's error area, oldest first."""
        return self.state.errors

    @property
    def settings(self) -> Settings:
        """The values the controls show now."""
        return self.controls.settings

    def set(self, **values) -> None:
        """Change several controls at once (one retraining); values are validated first.

        Keys are the fields of ``Settings`` plus ``show_test`` and ``slow``.
        A value the controls cannot take raises RegularizationInputError.
        """
        view = {key: values.pop(key) for key in ("show_test", "slow") if key in values}
        if self.controls.set(values):
            self._restart()
        for key, value in view.items():
            getattr(self.controls, key).value = bool(value)

    def run_sweep(self, parameter: str = "lambd", settings: Settings | None = None) -> SweepResult:
        """Train once per grid value of ``parameter`` ("lambd" or "keep_prob"); return accuracies.

        See ``Sweeper.run``; nothing on screen changes.
        """
        return self.sweeper.run(parameter, settings)

    def idle(self) -> bool:
        """True when the picture on screen is the finished run of the current values."""
        state = self.state
        shown = state.shown
        return (
            shown is not None
            and shown.generation == state.generation
            and shown.done
            and state.shown_view == state.view_version
            and state.job is None
        )

    def failed(self) -> bool:
        """True when the run of the current values stopped on an error (shown in the app)."""
        with self.state.lock:
            return self.state.failed_generation == self.state.generation and not self.idle()

    def wait(self, timeout: float = WAIT) -> bool:
        """Block until ``idle()`` or ``failed()``; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self.state.lock:
            while not (self.idle() or self.failed()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.state.wake.wait(min(remaining, 0.1))
            return True

    def wait_sweep(self, timeout: float = WAIT) -> bool:
        """Block until the sweep started by the button has finished."""
        deadline = time.monotonic() + timeout
        with self.state.lock:
            while self.controls.sweep_button.disabled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.state.wake.wait(min(remaining, 0.1))
        return True

    def close(self) -> None:
        """Stop the threads and close the widgets."""
        state = self.state
        with state.lock:
            state.closed = True
            state.generation += 1
            state.wake.notify_all()
        self.live.stop(timeout=WAIT)
        self.sweeper.stop(timeout=WAIT)
        _close_tree(self.controls.widget)


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
