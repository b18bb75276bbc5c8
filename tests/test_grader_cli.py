"""The grader's command line: clear errors for bad input, progress on a TTY and in CI, the summary."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import tools
from autograder.grader.__main__ import main
from autograder.grader.batch import NO_SANDBOX_BANNER, Options, Result, grade_course
from autograder.grader.progress import Progress, summary_table
from autograder.reference import GRADED_FUNCTIONS


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_course_folder_is_a_clear_error(capsys, tmp_path):
    code, out, err = run(capsys, "--course-root", str(tmp_path / "nowhere"))
    assert code == 2
    assert err == f"error: the course directory {tmp_path / 'nowhere'} does not exist\n"
    assert out == ""


def test_a_course_without_source_or_submissions_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "--course-root", str(tmp_path))
    assert code == 2
    assert "has no source notebook source/regularization/Regularization.ipynb" in err
    shutil.copytree(tools.COURSE_ROOT / "source", tmp_path / "source")
    code, _, err = run(capsys, "--course-root", str(tmp_path))
    assert "has no submitted/ folder: nothing to grade" in err


def test_a_broken_source_notebook_or_gradebook_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "submitted").mkdir()
    source = tmp_path / "source" / "regularization" / "Regularization.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text("{ not json")
    code, _, err = run(capsys, "--course-root", str(tmp_path))
    assert code == 2
    assert "cannot be read" in err
    shutil.copy(tools.COURSE_ROOT / "source" / "regularization" / "Regularization.ipynb", source)
    code, _, err = run(capsys, "--course-root", str(tmp_path))  # no release: the gradebook lacks it
    assert code == 2
    assert "run `make release` first" in err


def test_tools_autograde_reports_bad_input_the_same_way(capsys, tmp_path):
    assert tools.main(["autograde", "--course-root", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tools.main(["autograde", "--jobs", "0"])


def result(student: str, total: float, status: str = "ok", reason: str = "") -> Result:
    scores = dict.fromkeys(GRADED_FUNCTIONS, total / 4)
    return Result(student, status, scores, reason=reason, seconds=2.5)


def test_progress_lines_for_logs_and_a_bar_for_terminals():
    log = io.StringIO()
    progress = Progress(2, log, tty=False)
    progress.started("ada")
    progress.finished(result("ada", 40))
    progress.finished(result("bob", 0, "invalid", "the notebook file is empty"))
    progress.close()
    assert log.getvalue().splitlines() == [
        "[1/2] ada: 40/40 ok (2.5 s)",
        "[2/2] bob: 0/40 invalid (2.5 s) - the notebook file is empty",
    ]
    screen = io.StringIO()
    progress = Progress(2, screen, tty=True)
    progress.started("ada")
    progress.finished(result("ada", 40))
    progress.close()
    text = screen.getvalue()
    assert text.startswith("\r[")
    assert "1/2 done, 0 failed, ETA" in text
    assert text.endswith("\n")


def test_the_summary_has_a_column_per_graded_function():
    table = summary_table(
        [result("ada", 40), result("bob", 20, "faults", "cell 3: timed out")], GRADED_FUNCTIONS
    )
    header, rule, ada, bob = table.splitlines()
    assert header.split() == ["student", "L2", "cost", "L2", "back", "drop", "fwd", "drop", "back", "total",
                              "status", "reason"]  # fmt: skip
    assert set(rule) == {"-"}
    assert ada.split() == ["ada", "10", "10", "10", "10", "40/40", "ok"]
    assert bob.split()[-5:] == ["faults", "cell", "3:", "timed", "out"]


def test_the_cli_lists_every_sandbox_limit():
    from autograder.grader.__main__ import parser

    text = parser().format_help()
    for option in ("--jobs", "--cell-timeout", "--check-timeout", "--memory-mb", "--sandbox-memory-mb",
                   "--resume", "--student", "--no-isolation"):  # fmt: skip
        assert option in text
    assert Path(tools.COURSE_ROOT / "README.md").is_file()  # the guarantees and the threat model


@pytest.fixture(scope="module")
def one_student_course():
    """A released course with one correct submission, readable by any uid (for the bwrap run)."""
    from tests import corpus

    base = Path(tempfile.mkdtemp(prefix="grader-cli-"))
    os.chmod(base, 0o755)
    root = corpus.make_course(base / "course")
    ctx = corpus.Context(corpus.release_notebook(root), root, Path(tools.COURSE_ROOT).parent)
    corpus.write_submission(corpus.entries(ctx)[0], ctx, "ada")
    yield root
    shutil.rmtree(base, ignore_errors=True)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_without_user_namespaces_the_grader_refuses_to_run(one_student_course):
    """Fail closed: a machine that refuses user namespaces gets no grading, and is told how to fix it.

    bubblewrap starts the grader as an ordinary uid in a user namespace that may not create another
    one (``--disable-userns``): what ``kernel.unprivileged_userns_clone=0`` does to a whole machine.
    """
    before = tree(one_student_course)
    command = ["bwrap", "--dev-bind", "/", "/", "--unshare-user", "--uid", "4321", "--gid", "4321",
               "--disable-userns", "--", sys.executable, "-m", "autograder.grader",
               "--course-root", str(one_student_course)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(tools.COURSE_ROOT).parent), "HOME": "/tmp"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    assert "student code cannot be confined on this machine (" in done.stderr
    assert "unshare: No space left on device" in done.stderr  # what the kernel said
    assert "sysctl -w kernel.unprivileged_userns_clone=1" in done.stderr
    assert "--no-sandbox" in done.stderr
    assert done.stdout == ""
    assert tree(one_student_course) == before  # nothing graded, nothing written


def test_no_sandbox_is_said_on_every_line(one_student_course):
    out = io.StringIO()
    options = Options(isolate=False, stream=out, tty=False)
    (result,) = grade_course(one_student_course, options)
    assert (result.student, result.total) == ("ada", 40.0)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 4  # progress, table header, rule, row, footer
    assert all(line.startswith(NO_SANDBOX_BANNER) for line in lines), lines


def test_student_text_cannot_drive_the_terminal():
    """Names and reasons reach the terminal with every control character shown, not obeyed."""
    attack = "\x1b[2K\r[1/1] ada: 40/40 ok\x1b]0;title\x07\u202e"
    result = Result(attack, "faults", dict.fromkeys(GRADED_FUNCTIONS, 0.0), reason=attack)
    stream = io.StringIO()
    progress = Progress(1, stream, tty=False)
    progress.started(attack)
    progress.finished(result)
    printed = stream.getvalue() + summary_table([result], GRADED_FUNCTIONS)
    assert not any(ord(c) < 32 and c != "\n" for c in printed)
    assert "\u202e" not in printed
    assert "\\x1b[2K\\x0d[1/1]" in printed
