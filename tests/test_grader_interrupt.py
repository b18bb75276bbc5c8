"""Killing a batch at any moment loses nothing: the gradebook stays consistent and a re-run finishes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import corpus
import pytest

from autograder.grader.batch import Options, grade_course
from autograder.grader.gradebook import auto_scores
from autograder.grader.sandbox import REPO_ROOT, Limits

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
    try:
        return json.loads((root / ".grading" / "status.json").read_text())["students"]
    except (OSError, ValueError, KeyError):
        return {}


def start_grader(root: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "autograder.grader", "--course-root", str(root), "--jobs", "2",
               "--progress", "lines", "--cell-timeout", "120", *extra]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(root: Path, process: subprocess.Popen, done: str) -> None:
    """Until ``done`` has its grade and b_hangs is being graded."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        states = {s: e.get("status") for s, e in status(root).items()}
        if states.get(done) == "ok" and states.get("b_hangs") == "grading":
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"the batch never reached the kill point: {status(root)}")


def sandbox_processes(pid: int) -> list[str]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if f"reg-grader-{pid}-".encode() in cmdline:
            found.append(entry)
    return found


def strike(root: Path, how: signal.Signals, done: str, *extra: str) -> str:
    """Run the grader, kill it with ``how`` once ``done`` is graded and b_hangs is in flight."""
    process = start_grader(root, *extra)
    wait_until(root, process, done)
    os.kill(process.pid, how)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == (130 if how == signal.SIGINT else -signal.SIGKILL)
    # the sandboxes died with their grader (parent-death signal, then the PID namespace)
    deadline = time.monotonic() + 10
    while sandbox_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
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
