"""Grade every submission of a course: JOBS sandboxes at a time, one writer, a summary at the end.

One grader process drives everything with a selector (no threads): it
starts up to ``jobs`` sandboxes, reads their results as they come, judges
each hidden test as soon as its outputs arrive, and when a student's last
verdict is in, writes the graded notebook, the gradebook and the status
(see ``gradebook``). SIGINT or SIGTERM stop the batch cleanly: running
sandboxes are killed, their students are marked ``interrupted`` (nothing is
written for them) and the summary says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from autograder.hidden_checks import CHECKS
from autograder.reference import ASSIGNMENT, GRADED_FUNCTIONS

from .drive import contained as _contained
from .drive import matplotlib_cache as _matplotlib_cache
from .extract import NOTEBOOK, Submission, read_submission
from .gradebook import GradebookError, GradebookWriter, StatusFile, course_lock, write_notebook
from .judge import Calls, judge
from .plan import Assignment, Plan, SourceError, assemble, normalized, placeholder_plan, plan
from .points import MODES, called_functions, points_plan
from .progress import Progress, summary_table
from .sandbox import WORKDIR_PREFIX, Limits, Sandbox, Zygote, clean_stale_workdirs, isolation_problem
from .text import clean, markdown, terminal

#: Starts every progress and summary line of a run with ``--no-sandbox``.
NO_SANDBOX_BANNER = "[NO SANDBOX: student code ran unconfined] "

MAX_SCORE = float(sum(check.points for check in CHECKS.values()))
FINAL = ("ok", "faults", "invalid", "missing")
#: Fault kinds the sandbox reports for calls it stopped or lost (see harness._call_group).
GRADER_FAULTS = ("Timeout", "ProcessDied")


class GradingError(RuntimeError):
    """The course cannot be graded as given (missing folder, broken source...): a clear message."""


@dataclass
class Options:
    jobs: int = 2
    limits: Limits = field(default_factory=Limits)
    isolate: bool = True
    resume: bool = False  # skip students whose graded submission and source did not change
    students: list[str] | None = None
    stream: object = None  # where progress and the summary go (default stdout)
    tty: bool | None = None  # live progress bar; None: when the stream is a terminal
    summary: bool = True
    gradebook: str | None = None  # database URL; None: the course's sqlite file (see dburl)
    mode: str = "full"  # "points": run only the cells the graded functions need (see points)
    cluster: str | None = None  # "local:N" or "tcp://HOST:PORT": grade on Dask (see cluster); None: here


@dataclass
class Result:
    """What the batch concluded for one student."""

    student: str
    status: str  # ok, faults, invalid, missing, interrupted, error, unchanged
    scores: dict[str, float]
    checks: dict[str, str | None] = field(default_factory=dict)  # grade_id -> failure or None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.scores.values())


@dataclass
class _Job:
    submission: Submission
    plan: Plan | None = None
    sandbox: Sandbox | None = None
    started: float = 0.0


def discover(course_root: Path, only: list[str] | None = None) -> list[Submission]:
    submitted = course_root / "submitted"
    if not submitted.is_dir():
        return []
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only is not None:
        unknown = sorted(set(only) - set(students))
        if unknown:
            raise GradingError(f"no submission for {', '.join(unknown)} under {submitted}")
        students = [s for s in students if s in only]
    return [read_submission(s, submitted / s / ASSIGNMENT) for s in students]


def _describe(how: str, kind: str, limits: Limits) -> str:
    if how.startswith("timeout"):
        seconds = how.split()[-1]
        if kind == "check":
            return f"did not finish within {seconds} s (an infinite loop?)"
        return f"this cell did not finish within {seconds} s; it was stopped and its effects discarded"
    if how == "stopped responding":
        return "the sandbox stopped responding and was killed"
    if kind == "check":
        return f"the Python process running this test {how}"
    return f"this cell {how}; the notebook went on from the state before it"


class Batch:
    def __init__(self, course_root: Path, options: Options):
        self.root, self.options = course_root, options
        self.stream = options.stream or sys.stdout
        self.assignment = Assignment.load(
            course_root / "source" / ASSIGNMENT / NOTEBOOK, course_root / "release" / ASSIGNMENT / NOTEBOOK
        )
        self.assignment.check_against(CHECKS)
        self.calls = Calls.build()
        self.source_digest = hashlib.sha256(
            json.dumps([[c.grade_id, c.source] for c in self.assignment.cells]).encode("utf-8")
        ).hexdigest()[:16]
        if options.mode not in MODES:
            raise GradingError(f"unknown grading mode {options.mode!r}: use one of {', '.join(MODES)}")
        if options.mode != "full":  # --resume regrades what another mode graded
            self.source_digest += f"-{options.mode}"
        self.results: list[Result] = []
        self.interrupted = False
        self.sandbox_notes: set[str] = set()  # about the machine, not a student: said once

    # ------------------------------------------------------------ driving

    def run(self) -> list[Result]:
        self._check_isolation()
        with course_lock(self.root):
            self.status = StatusFile(self.root)
            self.status.compact()  # what a killed run logged, folded in before this run adds to it
            half = self.status.half_graded()
            try:
                with self._grader() as grade_all:  # starts while the gradebook opens
                    self.writer = GradebookWriter(
                        self.root, ASSIGNMENT, NOTEBOOK.removesuffix(".ipynb"), self.options.gradebook
                    )
                    try:
                        submissions = discover(self.root, self.options.students)
                        if half:
                            names = ", ".join(terminal(name, 60) for name in half)
                            self.stream.write(f"half-graded by an earlier run, graded again: {names}\n")
                        grade_all(submissions)
                    finally:
                        self.writer.close()
            finally:
                self.status.compact()
        if self.options.summary:
            ordered = sorted(self.results, key=lambda r: r.student)
            self.stream.write(summary_table(ordered, GRADED_FUNCTIONS, MAX_SCORE, self.banner) + "\n")
            self._footer()
        return self.results

    def _check_isolation(self) -> None:
        """Fail closed: no grading where submissions cannot be confined."""
        if self.options.isolate:
            problem = isolation_problem()
            if problem is not None:
                raise GradingError(problem)

    @contextlib.contextmanager
    def _grader(self):
        """What grades the submissions here: a fork server and a work folder, for the batch's lifetime.

        Yields a function taking the list of submissions (``cluster`` yields one that sends them to Dask).
        """
        clean_stale_workdirs()
        workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        mpl_cache = _matplotlib_cache()
        zygote = Zygote(workdir, mpl_cache)  # preloads while the gradebook opens
        try:
            yield lambda submissions: self._grade_all(submissions, workdir, mpl_cache, zygote)
        finally:
            zygote.close()
            shutil.rmtree(workdir, ignore_errors=True)

    @property
    def banner(self) -> str:
        return "" if self.options.isolate else NO_SANDBOX_BANNER

    def _footer(self) -> None:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.stream.write(f"{self.banner}{len(self.results)} students: {text or 'none'}\n")
        for note in sorted(self.sandbox_notes):
            self.stream.write(f"{self.banner}sandbox: {terminal(note)}\n")
        if self.interrupted:
            self.stream.write("interrupted: students marked 'interrupted' have no new grade; run again\n")

    def _grade_all(self, submissions: list[Submission], workdir: Path, mpl_cache, zygote: Zygote) -> None:
        pending = deque(_Job(s) for s in submissions)
        running: list[_Job] = []
        finishing: deque[_Job] = deque()  # sandboxes done, grades not yet written
        selector = selectors.DefaultSelector()
        progress = Progress(len(submissions), self.stream, self.options.tty, MAX_SCORE, self.banner)
        previous = signal.getsignal(signal.SIGTERM)
        with contextlib.suppress(ValueError):  # not the main thread: SIGTERM keeps its handler
            signal.signal(signal.SIGTERM, _interrupt)

        def fill() -> None:
            while pending and len(running) < max(1, self.options.jobs):
                job = pending.popleft()
                if self._skip_unchanged(job) or not self._launch(job, workdir, mpl_cache, zygote):
                    progress.finished(self.results[-1])
                    continue
                selector.register(job.sandbox.sock, selectors.EVENT_READ, job)
                running.append(job)
                progress.started(job.submission.student)

        try:
            while pending or running:
                fill()
                if not running:
                    continue
                now = time.monotonic()
                wait = min(job.sandbox.deadline() for job in running) - now
                for key, _ in selector.select(timeout=min(max(wait, 0.0), 1.0)):
                    _contained(key.data.sandbox, key.data.sandbox.receive)
                now = time.monotonic()
                for job in list(running):
                    _contained(job.sandbox, lambda: job.sandbox.check_deadline(now))  # noqa: B023
                    if job.sandbox.done:
                        selector.unregister(job.sandbox.sock)
                        running.remove(job)
                        finishing.append(job)
                fill()  # the next sandboxes start before these results are judged and written
                while finishing:
                    self._finish(finishing[0])
                    finishing.popleft()
                    progress.finished(self.results[-1])
        except KeyboardInterrupt:
            self.interrupted = True
            recorded = {result.student for result in self.results}
            for job in [*running, *finishing]:
                job.sandbox.cleanup()
                if job.submission.student not in recorded:
                    self._record_interrupted(job)
            self._record_not_started(pending)
        finally:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, previous)
            progress.close()
            selector.close()
            for job in running:
                job.sandbox.cleanup()

    def _zeros(self) -> dict[str, float]:
        return dict.fromkeys(GRADED_FUNCTIONS, 0.0)

    def _skip_unchanged(self, job: _Job) -> bool:
        entry = self.status.entries.get(job.submission.student, {})
        if not (
            self.options.resume
            and entry.get("status") in FINAL
            and entry.get("digest") == job.submission.digest
            and entry.get("source") == self.source_digest
        ):
            return False
        scores = {f: float(entry.get("scores", {}).get(f, 0.0)) for f in GRADED_FUNCTIONS}
        self.results.append(
            Result(
                job.submission.student,
                "unchanged",
                scores,
                reason=f"graded before ({entry['status']}); submission unchanged",
            )
        )
        return True

    def _begin(self, job: _Job) -> bool:
        """Mark the student as being graded; False when finished on the spot (no runnable notebook)."""
        job.started = time.monotonic()
        self.status.set(job.submission.student, status="grading", digest=job.submission.digest)
        if job.submission.problem is not None:
            self._finish(job)
            return False
        return True

    def _launch(self, job: _Job, workdir: Path, mpl_cache: str | None, zygote: Zygote) -> bool:
        """Start the student's sandbox; False when it was finished on the spot (no runnable notebook)."""
        submission = job.submission
        if not self._begin(job):
            return False
        try:
            steps = self._steps(job)
            job.sandbox = Sandbox(
                submission.student,
                steps,
                submission.folder,
                workdir,
                self.options.limits,
                self.options.isolate,
                mpl_cache,
                zygote,
            )
            job.sandbox.start()
        except Exception as exc:
            if job.sandbox is not None:
                job.sandbox.cleanup()
            reason = clean(f"the grader could not start this submission ({type(exc).__name__}: {exc})")
            try:
                self.results.append(self._record_zero(job, reason))
            except Exception:
                self._record_error(job, reason)
            return False
        return True

    def _steps(self, job: _Job) -> list[dict]:
        """Plan the student's run (sets ``job.plan``): the sandbox's steps, tests with their calls' inputs."""
        job.plan = plan(job.submission.cells, self.assignment)
        if self.options.mode == "points":
            job.plan = points_plan(job.plan, called_functions(self.calls.wire_form), job.submission.notebook)
        return [
            dict(step, calls=self.calls.wire_form[step["id"]]) if step["kind"] == "check" else step
            for step in job.plan.steps
        ]

    # ------------------------------------------------------------ verdicts

    def _finish(self, job: _Job) -> None:
        """Record the student's grade; if that fails on their data, record 0 with the reason instead."""
        try:
            result = self._conclude(job)
        except Exception as exc:
            reason = f"the grader could not process this submission's results ({type(exc).__name__}: {exc})"
            try:
                result = self._record_zero(job, clean(reason))
            except Exception as again:
                self._record_error(job, clean(f"grader error while recording: {again!r}"))
                return
        finally:
            if job.sandbox is not None:
                job.sandbox.cleanup()
        self.results.append(result)

    def _record_zero(self, job: _Job, reason: str) -> Result:
        """0 on every test with ``reason``: graded notebook, gradebook and status, as for any grade."""
        tests = {gid: f"{check.function}: not graded: {reason}" for gid, check in CHECKS.items()}
        preface = f"**The grader could not grade this submission:** {markdown(reason)}. Every test scores 0."
        notebook = assemble(placeholder_plan(self.assignment), self.assignment, {}, tests, preface=preface)
        return self._write(job, "faults", notebook, tests, reason, [])

    def _conclude(self, job: _Job) -> Result:
        submission, sandbox = job.submission, job.sandbox
        notes = [submission.note] if submission.note else []
        tests: dict[str, str | None] = {}
        if submission.problem is not None or job.plan is None:
            status = "missing" if submission.cells is None and submission.notebook is None else "invalid"
            for gid, check in CHECKS.items():
                tests[gid] = f"{check.function}: not graded: {submission.problem}"
            notebook = assemble(
                placeholder_plan(self.assignment),
                self.assignment,
                {},
                tests,
                preface=f"**The grader could not run this submission:** {markdown(submission.problem)}."
                " Every test scores 0.",
            )
            reason = submission.problem or ""
        else:
            notes += job.plan.notes
            if sandbox.hello and isinstance(sandbox.hello.get("notes"), list):
                self.sandbox_notes.update(sandbox.hello["notes"])
            cells, faults = dict(getattr(job.plan, "kept", {})), []  # points mode: cells not re-run
            code_cells = [c for c in job.plan.cells if c.cell_type == "code"]
            ordinal = {c.step: n for n, c in enumerate(code_cells, 1) if c.step is not None}
            for k, step in enumerate(job.plan.steps):
                how = sandbox.faults.get(k)
                if step["kind"] == "cell":
                    if k in sandbox.cells:
                        cells[k] = sandbox.cells[k]
                    elif how:
                        cells[k] = _describe(how, "cell", sandbox.limits)
                        faults.append(f"code cell {ordinal[k]}: {_describe(how, 'cell', sandbox.limits)}")
                    elif sandbox.stop:
                        cells[k] = f"not run: {sandbox.stop}"
                    continue
                gid, function = step["id"], CHECKS[step["id"]].function
                if gid in sandbox.checks:
                    try:
                        tests[gid] = judge(gid, sandbox.checks[gid], self.calls)
                    except Exception as exc:  # unreadable outputs cost this test only
                        tests[gid] = clean(f"{function}: the returned data could not be judged ({exc})")
                        faults.append(tests[gid])
                    faults += [f"{function}: {m}" for m in _grader_faults(sandbox.checks[gid])]
                elif how:
                    tests[gid] = f"{function}: {_describe(how, 'check', sandbox.limits)}"
                    faults.append(tests[gid])
                else:
                    tests[gid] = (
                        f"{function}: not run: {sandbox.stop or 'the notebook ended before this test'}"
                    )
            if sandbox.stop:
                faults.insert(0, sandbox.stop)
            status = "faults" if faults else "ok"
            preface = None
            if notes or faults:
                items = "\n".join(f"- {markdown(item)}" for item in _unique([*notes, *faults]))
                preface = f"**Notes from the grader**\n\n{items}"
            notebook = assemble(job.plan, self.assignment, cells, tests, preface)
            reason = "; ".join(_unique([*faults, *notes]))
        return self._write(job, status, notebook, tests, reason, notes)

    def _write(self, job: _Job, status: str, notebook: dict, tests: dict, reason: str, notes: list) -> Result:
        """Graded notebook, then gradebook row, then status: one student's grade, all or nothing."""
        submission = job.submission
        checks = {gid: tests.get(gid, f"{CHECKS[gid].function}: not graded") for gid in CHECKS}
        points = {gid: (CHECKS[gid].points if checks[gid] is None else 0.0) for gid in CHECKS}
        scores = self._zeros()
        for gid, value in points.items():
            scores[CHECKS[gid].function] += value
        if not reason and sum(points.values()) < MAX_SCORE:
            reason = next(r for r in checks.values() if r is not None)
        student = submission.student
        target = self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK
        write_notebook(target, notebook)
        self.writer.record(student, points, self._unanswered(job), self._timestamp(submission))
        result = Result(student, status, scores, checks, reason, notes, time.monotonic() - job.started)
        self.status.set(
            student,
            status=status,
            scores=scores,
            total=result.total,
            reason=reason,
            notes=notes,
            checks=checks,
            digest=submission.digest,
            source=self.source_digest,
            seconds=round(result.seconds, 2),
        )
        return result

    def _unanswered(self, job: _Job) -> set[str]:
        stubs = self.assignment.release_stubs
        answered = set()
        if job.plan is not None:
            for cell in job.plan.cells:
                if cell.role == "solution" and normalized(cell.source) != normalized(
                    stubs.get(cell.grade_id, "")
                ):
                    answered.add(cell.grade_id)
        return {c.grade_id for c in self.assignment.cells if c.role == "solution"} - answered

    @staticmethod
    def _timestamp(submission: Submission) -> str | None:
        if submission.folder is None:
            return None
        path = submission.folder / "timestamp.txt"
        if not path.is_file() or path.is_symlink():
            return None
        text = path.read_text(encoding="utf-8", errors="replace").strip()[:64]
        from nbgrader import utils

        try:
            utils.parse_utc(text)
        except Exception:
            return None
        return text

    def _record_error(self, job: _Job, reason: str) -> None:
        student = job.submission.student
        self.status.set(student, status="error", reason=reason, digest=job.submission.digest)
        self.results.append(
            Result(student, "error", self._zeros(), reason=reason, seconds=time.monotonic() - job.started)
        )

    def _record_not_started(self, pending) -> None:
        """Results for the submissions an interrupted batch never started (nothing written for them)."""
        for job in pending:
            reason = "not graded: the batch was interrupted"
            self.results.append(Result(job.submission.student, "interrupted", self._zeros(), reason=reason))

    def _record_interrupted(self, job: _Job) -> None:
        student = job.submission.student
        reason = "interrupted while grading: no grade written; run again"
        self.status.set(student, status="interrupted", reason=reason, digest=job.submission.digest)
        self.results.append(Result(student, "interrupted", self._zeros(), reason=reason))


def _grader_faults(outputs) -> list[str]:
    """Messages of the calls the sandbox had to stop (hang) or lost (crash), as opposed to ordinary errors."""
    found = []
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict) and isinstance(output.get("$err"), list) and len(output["$err"]) == 2:
            kind, message = output["$err"]
            if kind in GRADER_FAULTS and isinstance(message, str):
                found.append(clean(message, 200))
    return found


def _unique(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def check_course(course_root: Path) -> None:
    """GradingError unless ``course_root`` looks like a course that can be graded."""
    course_root = Path(course_root)
    if not course_root.is_dir():
        raise GradingError(f"the course directory {course_root} does not exist")
    source = course_root / "source" / ASSIGNMENT / NOTEBOOK
    if not source.is_file():
        raise GradingError(f"{course_root} has no source notebook {source.relative_to(course_root)}")
    if not (course_root / "submitted").is_dir():
        raise GradingError(f"{course_root} has no submitted/ folder: nothing to grade")


def grade_course(course_root: Path, options: Options | None = None) -> list[Result]:
    """Grade every submission under ``course_root/submitted``; GradingError for unusable input."""
    course_root = Path(course_root)
    check_course(course_root)
    try:
        options = options or Options()
        if options.cluster:
            from .cluster import ClusterBatch

            return ClusterBatch(course_root, options).run()
        return Batch(course_root, options).run()
    except (SourceError, GradebookError) as exc:
        raise GradingError(str(exc)) from None


def exit_status(grade) -> int:
    """Run ``grade()`` (a batch) and turn its outcome into the CLI's exit status.

    2: unusable input (the reason goes to stderr); 130: interrupted; 1: the grader
    failed on a student; 0: every student graded. Shared by ``python -m
    autograder.grader`` and ``make autograde``.
    """
    try:
        results = grade()
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if any(result.status == "interrupted" for result in results):
        return 130
    return 1 if any(result.status == "error" for result in results) else 0
