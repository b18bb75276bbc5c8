"""Driving one sandbox, shared by the local batch and the Dask worker: failures stay with their student.

Imports nothing heavy: the local batch must not pay for Dask.
"""

from __future__ import annotations

import select
import time

from .sandbox import Sandbox
from .text import clean


def contained(sandbox: Sandbox, action) -> None:
    """Run ``action`` on one student's sandbox; any exception ends that sandbox only, with the reason."""
    try:
        action()
    except Exception as exc:
        sandbox.finish(clean(f"the grader failed on this submission's data ({type(exc).__name__}: {exc})"))


def matplotlib_cache() -> str | None:
    """The grader's matplotlib cache folder, so sandboxes load the font list instead of rebuilding it."""
    try:
        import matplotlib

        return matplotlib.get_cachedir()
    except Exception:
        return None


def drive(sandbox: Sandbox) -> None:
    """Read the sandbox's messages and watch its deadlines until it is done (the batch's loop, for one)."""
    while not sandbox.done:
        wait = sandbox.deadline() - time.monotonic()
        ready, _, _ = select.select([sandbox.sock], [], [], min(max(wait, 0.0), 1.0))
        if ready:
            contained(sandbox, sandbox.receive)
        contained(sandbox, lambda: sandbox.check_deadline(time.monotonic()))
