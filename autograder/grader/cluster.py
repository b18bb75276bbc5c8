"""Grading on a Dask cluster: one task per submission, verdicts and writing in this one process.

``--cluster local:N`` starts a ``dask.distributed`` LocalCluster of N worker
processes; ``--cluster tcp://HOST:PORT`` uses a running scheduler whose
workers were started with ``dask worker`` (``make dask-worker``) on any
machines. What travels, and why (autograder/README.md, "Grading on a Dask
cluster"):

- to a worker: the submission's files as bytes (read here, with the bounds
  the sandbox's scratch copy has), the steps this process planned from the
  source notebook (cell sources, the hidden tests' inputs as wire data, never
  their expected values), the limits, and the hash of the kit's sources;
- back: what the sandbox sent, as plain data (cell outputs, the graded
  functions' outputs, faults, why it stopped).

No shared folder is needed. The worker grades in the same rootless sandbox
as a local batch, from a fork server of its own, as the worker's user
(``worker``, which never loads the hidden checks). This
process judges the outputs and writes the graded notebook, the gradebook and
the status file through ``Batch``'s own path, so grades are the local
batch's. Results arrive with ``distributed.as_completed``; each task is
keyed by the submission's content hash and the source's (plus the kit's),
and a cluster run always resumes: what an earlier run graded from the same
files, source and kit is not sent again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import signal
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, KilledWorker, LocalCluster, as_completed

from .batch import (
    MAX_SCORE,
    Batch,
    GradingError,
    Options,
    _interrupt,
    _Job,
)
from .extract import read_files
from .progress import Progress
from .sandbox import Limits
from .text import clean, terminal
from .worker import FaultInjection, GraderPlugin, WorkerUnfit, grade_on_worker, kit_digest

LOCAL = re.compile(r"local:(\d+)")
#: Seconds to reach a scheduler, and to wait for its first worker.
CONNECT_TIMEOUT = 30.0
WORKER_TIMEOUT = 120.0
#: Tasks in flight per worker thread: enough to keep workers busy, few submissions held in memory.
IN_FLIGHT_PER_THREAD = 2


def pack_files(folder: Path | None, budget: int) -> list[tuple[str, bytes | None]]:
    """The submission's folders (None) and regular files (bytes), as the sandbox's scratch copy takes them.

    Same reader, same bounds (``extract.read_files``, no links, ``budget``
    bytes): what does not fit is left out, as it would be from a local sandbox.
    """
    return [] if folder is None else list(read_files(folder, budget))


@dataclass
class RemoteRun:
    """A sandbox run that happened on a worker, with the fields ``Batch._conclude`` reads of a ``Sandbox``."""

    limits: Limits
    hello: dict | None
    cells: dict
    checks: dict
    faults: dict
    stop: str | None

    def cleanup(self) -> None:
        """Nothing to end here: the worker ended the sandbox."""


def connect(cluster: str):
    """(client, LocalCluster or None) for ``local:N`` or ``tcp://HOST:PORT``; GradingError if unusable."""
    local = LOCAL.fullmatch(cluster)
    if local:
        workers = int(local.group(1))
        if workers < 1:
            raise GradingError("--cluster local:N needs N >= 1 worker processes")
        # threads_per_worker=1: one sandbox per worker process at a time; memory_limit=0: the sandbox's
        # rlimits and cgroup bound memory, Dask's own monitor would only see the worker process.
        local_cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # the HTTP endpoints on a free port, no fixed 8787
            memory_limit=0,
        )
        return Client(local_cluster), local_cluster
    if not cluster.startswith("tcp://"):
        raise GradingError(f"unknown --cluster {cluster!r}: use local:N or tcp://HOST:PORT (a scheduler)")
    try:
        client = Client(cluster, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise GradingError(
            f"cannot reach the Dask scheduler at {cluster} ({exc}): start one with `dask scheduler` "
            "(make dask-scheduler) and check the address"
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        client.close()
        raise GradingError(
            f"no Dask worker joined the scheduler at {cluster} within {WORKER_TIMEOUT:g} s: start workers "
            "with `make dask-worker SCHEDULER=...` on machines with the same kit"
        ) from None
    return client, None


class ClusterBatch(Batch):
    """``Batch`` whose sandboxes run on Dask workers; this process still judges and writes every grade."""

    def __init__(self, course_root: Path, options: Options, faults: FaultInjection | None = None):
        super().__init__(course_root, dataclasses.replace(options, resume=True))
        self.faults = faults or FaultInjection()
        self.kit = kit_digest()
        self.source_digest += f"-kit{self.kit[:12]}"  # another grader or checks: grade again
        self.recorded = 0

    def _check_isolation(self) -> None:
        """Each worker probes its own machine before its first sandbox (fail closed there)."""

    @contextlib.contextmanager
    def _grader(self):
        client, local_cluster = connect(self.options.cluster)
        try:
            client.register_plugin(GraderPlugin(self.options.isolate), name="reg-grader")
            yield lambda submissions: self._grade_on(client, submissions)
        finally:
            client.close()
            if local_cluster is not None:
                local_cluster.close()

    def _grade_on(self, client, submissions) -> None:
        pending = deque(_Job(s) for s in submissions)
        in_flight: dict = {}
        done = as_completed()
        progress = Progress(len(submissions), self.stream, self.options.tty, MAX_SCORE, self.banner)
        previous = signal.getsignal(signal.SIGTERM)
        with contextlib.suppress(ValueError):  # not the main thread: SIGTERM keeps its handler
            signal.signal(signal.SIGTERM, _interrupt)

        def top_up() -> None:
            window = max(2, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))
            while pending and len(in_flight) < window:
                job = pending.popleft()
                if self._skip_unchanged(job):
                    progress.finished(self.results[-1])
                    continue
                task = self._task(job)
                if task is None:  # finished here (no runnable notebook)
                    progress.finished(self.results[-1])
                    continue
                future = client.submit(grade_on_worker, task, key=self._key(job), pure=False)
                in_flight[future] = job
                done.add(future)
                progress.started(job.submission.student)

        try:
            top_up()
            for future in done:
                job = in_flight.pop(future)
                self._collect(job, future)
                progress.finished(self.results[-1])
                self.recorded += 1
                if self.recorded == self.faults.client_dies_after:
                    os.kill(os.getpid(), signal.SIGKILL)
                top_up()
        except KeyboardInterrupt:
            self.interrupted = True
            for future, job in in_flight.items():
                future.cancel()
                self._record_interrupted(job)
            in_flight.clear()
            self._record_not_started(pending)
        finally:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, previous)
            progress.close()
            for future in in_flight:
                future.cancel()

    def _key(self, job: _Job) -> str:
        """The task's key: the submission's content hash, the source's and the student's (copies differ)."""
        name = hashlib.sha256(job.submission.student.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"reg-grade-{job.submission.digest[:20]}-{self.source_digest}-{name}"

    def _task(self, job: _Job) -> dict | None:
        """The plain data a worker needs for this submission; None when it was finished here instead."""
        submission = job.submission
        if not self._begin(job):
            return None
        limits = self.options.limits
        try:
            steps = self._steps(job)
            files = pack_files(submission.folder, limits.copy_mb << 20)
        except Exception as exc:
            reason = f"the grader could not start this submission ({type(exc).__name__}: {exc})"
            self._zero_or_error(job, reason)
            return None
        return {
            "student": submission.student,
            "kit": self.kit,
            "steps": steps,
            "files": files,
            "limits": dataclasses.asdict(limits),
            "isolate": self.options.isolate,
            "faults": dataclasses.asdict(self.faults),
        }

    def _collect(self, job: _Job, future) -> None:
        """Turn a finished task into the student's recorded grade (a 0 with the reason if the task failed).

        A task lost by the cluster (cancelled, the scheduler gone) is not the
        student's doing: the batch stops without a grade for them (their mark
        stays ``grading``) and says to run again, which resumes.
        """
        student = job.submission.student
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, WorkerUnfit):
                raise GradingError(str(exc))
            if isinstance(exc, KilledWorker):
                reason = (
                    "grading this submission killed every Dask worker that ran it, until the scheduler "
                    "stopped retrying (KilledWorker, see distributed.scheduler.allowed-failures); "
                    "nothing could be judged"
                )
            else:
                reason = f"the grader failed on a worker ({type(exc).__name__}: {exc})"
            self._zero_or_error(job, reason)
            return
        try:
            if future.status != "finished":
                raise RuntimeError(f"the task is {future.status}")
            data = future.result()
        except Exception as exc:
            raise GradingError(
                f"the Dask cluster lost the task grading {terminal(student, 60)} ({type(exc).__name__}: "
                f"{exc}); students being graded keep their 'grading' mark: run again to finish (it resumes)"
            ) from None
        job.sandbox = RemoteRun(self.options.limits, **data)
        self._finish(job)

    def _zero_or_error(self, job: _Job, reason: str) -> None:
        reason = clean(reason)
        try:
            self.results.append(self._record_zero(job, reason))
        except Exception:
            self._record_error(job, reason)
