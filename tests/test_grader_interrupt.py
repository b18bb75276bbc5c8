"""Killing a batch at any moment loses nothing: the gradebook stays consistent and a re-run finishes."""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grader.batch import Options, grade_course
from autograder.grader.gradebook import auto_scores, read_status
from autograder.grader.sandbox import REPO_ROOT, Limits
from tests import corpus

pytestmark = pytest.mark.slow
#: a_* finishes fast; b_hangs sits in an endless cell, so a student is always mid-grading when we strike.
STUDENTS = {"a_correct": None, "b_hangs": "while True:\n    pass\n", "c_correct": None, "d_unanswered": None}


@pytest.fixture
def course(tmp_path):
    root = corpus.make_course(tmp_path / "course")
    ctx = corpus.Context(corpus.release_notebook(root), root, REPO_ROOT)
    for student, cell in STUDENTS.items():
        notebook = ctx.release if student.startswith("d_") else corpus.answered(ctx)
        if cell:
            notebook = corpus.insert_after(notebook, "imports", corpus.code_cell(cell))
        folder = root / "submitted" / student / "regularization"
        folder.mkdir(parents=True)
        (folder / "Regularization.ipynb").write_bytes(corpus.dumps(notebook))
    return root


def status(root: Path) -> dict:
    return read_status(root)  # while the grader runs too: its log of changes included


def start_grader(root: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "autograder.grader", "--course-root", str(root), "--jobs", "2",
               "--progress", "lines", "--cell-timeout", "120", *extra]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(root: Path, process: subprocess.Popen, done: str) -> list[str]:
    """Block on the grader's progress lines (an event, not a poll) until ``done`` has its grade.

    The grader writes a student's status before printing their line. b_hangs was launched before
    ``done`` (name order) and sits in a 120 s cell, so it is then being graded on any machine.
    """
    lines = []
    for line in process.stdout:  # one line per finished student (--progress lines)
        lines.append(line)
        if f"] {done}: " in line:
            states = {s: e.get("status") for s, e in status(root).items()}
            assert states.get(done) == "ok", states
            assert states.get("b_hangs") == "grading", states
            return lines
    raise AssertionError(f"the grader ended before grading {done}: {''.join(lines)}{process.stderr.read()}")


def wait_for_exit(pids: list[str], timeout: float = 60.0) -> None:
    """Until each process has exited (its pidfd turns readable): the kernel's event, not a poll."""
    for pid in pids:
        try:
            fd = os.pidfd_open(int(pid))
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], timeout)
        finally:
            os.close(fd)


def sandbox_processes(pid: int) -> list[str]:
    """Processes of the grader ``pid``'s sandboxes: their environment names its work folder."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            seen = Path(f"/proc/{entry}/cmdline").read_bytes() + Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if f"reg-grader-{pid}-".encode() in seen:
            found.append(entry)
    return found


def strike(root: Path, how: signal.Signals, done: str, *extra: str) -> str:
    """Run the grader, kill it with ``how`` once ``done`` is graded and b_hangs is in flight."""
    process = start_grader(root, *extra)
    lines = wait_until(root, process, done)
    os.kill(process.pid, how)
    rest, _ = process.communicate(timeout=60)
    out = "".join(lines) + rest
    assert process.returncode == (130 if how == signal.SIGINT else -signal.SIGKILL)
    # the sandboxes died with their grader (parent-death signal, then the PID namespace)
    wait_for_exit(sandbox_processes(process.pid))
    assert sandbox_processes(process.pid) == []
    # only complete verdicts were written, and each one whole: never a NULL score
    grades = auto_scores(root)
    assert "b_hangs" not in grades
    assert done in grades
    assert all(None not in g and len(g) == 14 for g in grades.values())
    return out


def test_a_killed_batch_leaves_consistent_grades_and_a_rerun_finishes(course):
    strike(course, signal.SIGKILL, "a_correct")
    assert status(course)["b_hangs"]["status"] == "grading"  # visibly half-graded
    # a resumed run grades b_hangs again (and whoever is left) and is stopped by SIGINT this time
    # (d_unanswered is never reached by the first run: its grade proves the second run is under way)
    out = strike(course, signal.SIGINT, "d_unanswered", "--resume")
    assert "half-graded by an earlier run, graded again: b_hangs" in out
    assert status(course)["b_hangs"]["status"] == "interrupted"
    assert "interrupted" in out
    # the last run finishes: every student graded once, with the right grades
    out = io.StringIO()
    options = Options(jobs=2, limits=Limits(cell_timeout=5), resume=True, stream=out)
    results = {r.student: r for r in grade_course(course, options)}
    assert "graded again: b_hangs" in out.getvalue()
    assert results["a_correct"].status == "unchanged"  # not graded a third time
    assert {s: r.total for s, r in results.items()} == {"a_correct": 40, "b_hangs": 40, "c_correct": 40,
                                                        "d_unanswered": 0}  # fmt: skip
    assert {e["status"] for e in status(course).values()} <= {"ok", "faults"}
    grades = auto_scores(course)
    assert sorted(grades) == sorted(STUDENTS)
    assert all(None not in g and len(g) == 14 for g in grades.values())
