"""The worker's side of grading on Dask: grade one submission in a sandbox, send back plain data.

A Dask worker runs ``grade_on_worker`` once per submission (``cluster`` sends
the tasks). It checks that it runs the client's kit (a hash of the sources),
writes the submission's files, received as bytes, to a scratch folder and
grades them in the rootless sandbox, forked from this worker process's own
fork server (started by ``GraderPlugin`` when the worker starts). It sends
back what the sandbox sent, never a verdict: this module does not import the
hidden checks, so a worker loads only the sandbox's side of the grader.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from distributed import Event, Variable
from distributed.diagnostics.plugin import WorkerPlugin

from .drive import drive, matplotlib_cache
from .sandbox import (
    REPO_ROOT,
    WORKDIR_PREFIX,
    Limits,
    Sandbox,
    Zygote,
    clean_stale_workdirs,
    isolation_problem,
)

#: The kit's code whose hash a worker must share with the client (same grader, same checks).
KIT_PACKAGES = ("autograder", "reg_utils", "testCases")
#: Seconds a held task waits to be let go (test-only fault injection).
HOLD_TIMEOUT = 120.0
FIX_KIT = (
    "install the same kit on every worker (the same commit, `make install`) and restart its "
    "`dask worker` (make dask-worker SCHEDULER=...)"
)


class WorkerUnfit(RuntimeError):
    """A worker cannot grade at all (other kit, no confinement): the batch stops, naming the fix."""


@dataclass(frozen=True)
class FaultInjection:
    """TEST-ONLY faults, set by the instructor's side (never by a submission's content).

    The tests use them to kill processes at known moments instead of waiting
    on the clock; a normal run leaves every field empty, and the command
    line cannot set them.
    """

    #: students whose task kills its own worker process (SIGKILL) before grading: a "poison" submission
    kill_worker_for: tuple[str, ...] = ()
    #: students whose task, once its sandbox started, publishes the worker's pid in the Dask Variable
    #: ``reg-grader-pid-<student>``, sets the Event ``reg-grader-started-<student>`` and waits for the
    #: Event ``reg-grader-release-<student>``
    hold_for: tuple[str, ...] = ()
    #: the client kills itself (SIGKILL) after recording this many new grades
    client_dies_after: int | None = None


def kit_digest(root: Path = REPO_ROOT) -> str:
    """sha256 over the names and bytes of the kit's Python sources (``KIT_PACKAGES``)."""
    digest = hashlib.sha256()
    for package in KIT_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def unpack_files(packed: list[tuple[str, bytes | None]], target: Path) -> Path:
    """Write ``pack_files``'s output under ``target``; names are checked to stay inside it."""
    target.mkdir(parents=True)
    base = target.resolve()
    for relative, data in packed:
        path = (target / relative).resolve()
        if base not in path.parents:
            raise ValueError(f"a packed file name leaves the folder: {relative!r}")
        if data is None:
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(data)
    return target


class _WorkerGrader:
    """Per worker process: a work folder and a fork server, made once and shared by its tasks."""

    lock = threading.Lock()
    current: _WorkerGrader | None = None
    confined = False  # the isolation probe passed in this process

    def __init__(self):
        clean_stale_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        self.mpl_cache = matplotlib_cache()
        self.zygote = Zygote(self.workdir, self.mpl_cache)
        self.spawning = threading.Lock()  # one request at a time on the fork server's socket

    @classmethod
    def get(cls, isolate: bool) -> _WorkerGrader:
        """The worker's grader; with ``isolate``, WorkerUnfit unless this machine confines (fail closed)."""
        with cls.lock:
            if isolate and not cls.confined:
                problem = isolation_problem()
                if problem is not None:
                    where = f"the Dask worker on {_hostname()}"
                    raise WorkerUnfit(f"{where} cannot confine submissions: {problem}")
                cls.confined = True
            if cls.current is None:
                cls.current = cls()
            return cls.current

    @classmethod
    def close(cls) -> None:
        with cls.lock:
            if cls.current is not None:
                cls.current.zygote.close()
                shutil.rmtree(cls.current.workdir, ignore_errors=True)
                cls.current = None


def _hostname() -> str:
    return os.uname().nodename


@contextlib.contextmanager
def _held(student: str, faults: FaultInjection):
    """Test-only: say that this student's sandbox is running, then wait until the test lets it go on."""
    if student in faults.hold_for:
        Variable(f"reg-grader-pid-{student}").set(os.getpid())
        Event(f"reg-grader-started-{student}").set()
        Event(f"reg-grader-release-{student}").wait(timeout=HOLD_TIMEOUT)
    yield


_checked_kits: set[str] = set()


def grade_on_worker(task: dict) -> dict:
    """A Dask task: grade one submission in a sandbox on this worker; plain data back (no verdicts).

    Raises ``WorkerUnfit`` when this worker runs another kit than the client
    or cannot confine submissions; the client then stops the batch.
    """
    if task["kit"] not in _checked_kits:
        here = kit_digest()
        if here != task["kit"]:
            raise WorkerUnfit(
                f"the Dask worker on {_hostname()} (pid {os.getpid()}) runs another version of the kit "
                f"(sources hash {here[:12]}, the client's {task['kit'][:12]}): {FIX_KIT}"
            )
        _checked_kits.add(here)
    faults = FaultInjection(**task["faults"])
    student = task["student"]
    if student in faults.kill_worker_for:
        os.kill(os.getpid(), signal.SIGKILL)
    grader = _WorkerGrader.get(task["isolate"])
    limits = Limits(**task["limits"])
    folder = None
    if task["files"] is not None:
        folder = unpack_files(task["files"], Path(tempfile.mkdtemp(dir=grader.workdir, prefix="in-")) / "s")
    sandbox = Sandbox(student, task["steps"], folder, grader.workdir, limits, task["isolate"])
    sandbox.mpl_cache, sandbox.zygote = grader.mpl_cache, grader.zygote
    try:
        with grader.spawning:
            sandbox.start()
        with _held(student, faults):
            drive(sandbox)
        return {
            "hello": sandbox.hello,
            "cells": sandbox.cells,
            "checks": sandbox.checks,
            "faults": sandbox.faults,
            "stop": sandbox.stop,
        }
    finally:
        sandbox.cleanup()
        if folder is not None:
            shutil.rmtree(folder.parent, ignore_errors=True)


class GraderPlugin(WorkerPlugin):
    """Starts a worker's fork server as the worker starts (its preload overlaps the batch's start-up),
    stops it and removes the work folder when the worker closes."""

    def __init__(self, isolate: bool):
        self.isolate = isolate

    def setup(self, worker) -> None:
        with contextlib.suppress(Exception):  # a worker that cannot grade says why in its first task
            _WorkerGrader.get(self.isolate)

    def teardown(self, worker) -> None:
        _WorkerGrader.close()
