"""What the explorer's parts share: the snapshot of a run, a sweep's result, the app's state.

``Frame`` is one snapshot of a training run (what a picture is drawn
from), ``SweepResult`` what a sweep returns, and ``ExplorerState`` the
one place where the app keeps what changes while it runs: counters,
queued frames, the frame on screen, errors, the current sweep. The app
owns one ``ExplorerState`` and hands it to ``live`` and ``sweep``; every
read or write of it that another thread may race happens under
``state.lock``. Used by the explorer of ``notebooks/Explore_regularization.ipynb``
and of the assignment.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from .settings import Dataset, Settings

WAIT = 60.0  # upper bound of every internal wait, seconds


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


@dataclass(eq=False)
class ExplorerState:
    """Everything of one explorer that changes while it runs, guarded by ``lock``.

    A control change bumps ``generation``; a frame whose generation is
    older is stale and is neither queued nor shown. ``wake`` is notified
    whenever something a waiting thread may care about changes.
    """

    lock: threading.RLock = field(default_factory=threading.RLock)
    generation: int = 0  # the run the controls show now
    view_version: int = 0  # bumped by view-only changes (show test points)
    job: Frame | None = None  # the next run for the training thread
    pending: Frame | None = None  # the newest snapshot not drawn yet
    last: Frame | None = None  # the newest snapshot of the current run
    shown: Frame | None = None  # the snapshot the picture on screen comes from
    shown_view: int = -1
    shown_accuracy: tuple[float, float] | None = None
    failed_generation: int = -1  # the run that stopped on an error
    closed: bool = False
    errors: list[str] = field(default_factory=list)
    sweep_generation: int = 0  # bumped to drop a sweep still running
    sweep: SweepResult | None = None
    sweep_marker: float = math.nan  # the value the sweep picture marks as current

    def __post_init__(self) -> None:
        self.wake = threading.Condition(self.lock)

    def is_current(self, frame: Frame) -> bool:
        """True while ``frame`` belongs to the values the controls show and the app is open."""
        return frame.generation == self.generation and not self.closed
