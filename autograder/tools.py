"""Instructor commands behind `make release / autograde / feedback / grades`.

Run as ``python -m autograder.tools COMMAND``. Every command works on a course
root (default: this folder) laid out the nbgrader way::

    source/regularization/Regularization.ipynb        the master notebook
    release/regularization/...                         generated student version
    submitted/<student>/regularization/*.ipynb         what students handed in (read only)
    autograded/<student>/regularization/...            graded copies
    feedback/<student>/regularization/*.html           what students get back
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .grader.dburl import holds_assignment, resolve
from .reference import ASSIGNMENT, COURSE_ROOT

NOTEBOOK = "Regularization.ipynb"
REPO_ROOT = COURSE_ROOT.parent
STUDENT_RELEASE = REPO_ROOT / "notebooks" / NOTEBOOK
STAGING = ".grading"


def nbgrader(
    course_root: Path, *args: str, check: bool = True, gradebook: str | None = None
) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course_root`` with this interpreter's tools on PATH.

    nbgrader's database migrations call the ``alembic`` command, so the venv's
    bin directory must be on PATH even when nbgrader is started by full path.
    ``gradebook`` (a database URL, see ``grader.dburl``) replaces the course's sqlite file.
    """
    if gradebook:
        args = (*args, f"--CourseDirectory.db_url={resolve(course_root, gradebook)}")
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("JUPYTER_CONFIG_PATH", str(REPO_ROOT / ".jupyter"))
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_root, env=env, check=check, capture_output=True, text=True,
    )  # fmt: skip


class ReleaseRefused(RuntimeError):
    """The student notebook holds work that a new release would overwrite."""


def work_in(notebook: Path) -> list[str]:
    """What a student has put into a released notebook: answers written, outputs saved.

    A fresh release has no outputs and nothing between START CODE HERE and
    END CODE HERE, so an empty list means the file can be replaced safely.
    """
    found = []
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    answered = []
    for cell in cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("solution") and _has_answer("".join(cell["source"])):
            answered.append(grading.get("grade_id", "?"))
    if answered:
        found.append(f"answers in {', '.join(answered)}")
    if any(cell.get("outputs") for cell in cells):
        found.append("saved outputs")
    return found


def _has_answer(source: str) -> bool:
    inside = False
    for line in source.splitlines():
        if "START CODE HERE" in line:
            inside = True
        elif "END CODE HERE" in line:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            return True
    return False


def release(
    course_root: Path = COURSE_ROOT,
    publish: bool = True,
    force: bool = False,
    target: Path = STUDENT_RELEASE,
    gradebook: str | None = None,
) -> Path:
    """Generate the student version and record it in the gradebook; ``publish`` copies it to ``target``.

    A ``target`` holding a student's work is replaced only with ``force``.
    """
    if publish and target.is_file() and not force and (work := work_in(target)):
        raise ReleaseRefused(
            f"{target.name} holds work ({'; '.join(work)}), and a new release would overwrite it. "
            "Save a copy under another name first, or run `make release FORCE=1` to replace it."
        )
    result = nbgrader(course_root, "generate_assignment", ASSIGNMENT, "--force", "--create",
                      check=False, gradebook=gradebook)  # fmt: skip
    generated = course_root / "release" / ASSIGNMENT / NOTEBOOK
    if result.returncode != 0 or not generated.is_file():
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.stderr[-3000:]}")
    if publish:
        shutil.copyfile(generated, target)
        print(f"student release written to {target}")
    return generated


def find_notebook(folder: Path) -> tuple[Path | None, str]:
    """The notebook to grade in a submission folder, and a note on how it was chosen."""
    exact = folder / NOTEBOOK
    if exact.is_file():
        return exact, ""
    candidates = sorted(folder.glob("*.ipynb"))
    if not candidates:
        return None, "no notebook in the submission"
    stem = NOTEBOOK.removesuffix(".ipynb").lower()
    likely = [p for p in candidates if p.stem.lower().startswith(stem)] or candidates
    chosen = max(likely, key=lambda p: p.stat().st_mtime)
    note = f"graded {chosen.name} (renamed by the student)"
    if len(candidates) > 1:
        note += f"; ignored {', '.join(p.name for p in candidates if p != chosen)}"
    return chosen, note


def stage_submissions(course_root: Path) -> dict[str, str]:
    """Copy each submission, under its expected name, to a staging tree nbgrader grades.

    Submissions are never modified: renamed notebooks are copied, not moved.
    Returns a note per student when something was unusual.
    """
    staging = course_root / STAGING / "submitted"
    shutil.rmtree(staging, ignore_errors=True)
    notes = {}
    for folder in sorted((course_root / "submitted").glob(f"*/{ASSIGNMENT}")):
        student = folder.parent.name
        notebook, note = find_notebook(folder)
        if note:
            notes[student] = note
        if notebook is None:
            continue
        target = staging / student / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copyfile(notebook, target / NOTEBOOK)
        if (folder / "timestamp.txt").is_file():
            shutil.copyfile(folder / "timestamp.txt", target / "timestamp.txt")
    return notes


def autograde_stock(course_root: Path = COURSE_ROOT) -> dict[str, str]:
    """Grade every submission with stock ``nbgrader autograde`` (kept for comparison and benchmarks)."""
    if not (course_root / "release" / ASSIGNMENT / NOTEBOOK).is_file():
        release(course_root, publish=False)
    notes = stage_submissions(course_root)
    for student, note in notes.items():
        print(f"{student}: {note}")
    result = nbgrader(course_root, "autograde", ASSIGNMENT, "--create", "--force",
                      f"--CourseDirectory.submitted_directory={STAGING}/submitted",
                      check=False)  # fmt: skip
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
    return notes


def grade_submissions(
    course_root: Path = COURSE_ROOT, jobs: int = 2, gradebook: str | None = None, **options
) -> list:
    """Grade every submission with the hardened grader (``autograder.grader``); one Result per student.

    Each submission runs in its own sandbox, ``jobs`` at a time; the verdicts
    are computed in this process and written to the gradebook and to
    ``autograded/``, so ``feedback`` and ``grades`` work as with stock
    nbgrader. ``gradebook`` is a database URL (default: the course's sqlite
    file). ``options`` go to ``autograder.grader.batch.Options`` (limits,
    isolate, students, stream, tty...). Raises ``GradingError`` for unusable input.
    """
    from .grader.batch import GradingError, Options, check_course, grade_course
    from .grader.dburl import GradebookURLError

    check_course(course_root)
    try:
        url = resolve(course_root, gradebook)
    except GradebookURLError as exc:
        raise GradingError(str(exc)) from None
    if not (course_root / "release" / ASSIGNMENT / NOTEBOOK).is_file() or not holds_assignment(
        url, ASSIGNMENT
    ):
        release(course_root, publish=False, gradebook=gradebook)
    return grade_course(course_root, Options(jobs=jobs, gradebook=gradebook, **options))


def autograde(course_root: Path = COURSE_ROOT, jobs: int = 2, **options) -> dict[str, str]:
    """Grade every submission (see ``grade_submissions``); return what was unusual, per student."""
    notes = {}
    for result in grade_submissions(course_root, jobs, **options):
        items = list(result.notes)
        if result.status not in ("ok", "unchanged") and result.reason not in items:
            items.append(result.reason)
        if items:
            notes[result.student] = "; ".join(items)
    return notes


#: The feedback page: nbgrader's template with titled tests, wrapped lines and MathML (see its header).
FEEDBACK_TEMPLATE = Path(__file__).with_name("templates") / "regularization_feedback"


def feedback_exporter_options() -> list[str]:
    """nbconvert options of the feedback page: the kit's template on top of nbgrader's own.

    nbgrader's template folder stays a base folder, so that the kit's
    template can extend nbgrader's feedback template by name.
    """
    upstream = Path(importlib.util.find_spec("nbgrader").origin).parent / "server_extensions" / "formgrader"
    return [
        f"--HTMLExporter.template_name={FEEDBACK_TEMPLATE.name}",
        "--HTMLExporter.template_file=regularization.html.j2",
        f"--HTMLExporter.extra_template_basedirs={FEEDBACK_TEMPLATE.parent}",
        f"--HTMLExporter.extra_template_basedirs={upstream / 'templates'}",
    ]


def feedback(course_root: Path = COURSE_ROOT, gradebook: str | None = None) -> None:
    """Write HTML feedback for every graded student, hidden tests redacted."""
    result = nbgrader(
        course_root, "generate_feedback", ASSIGNMENT, "--force",
        "--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades',"
        "'autograder.nbgrader_ext.RedactHiddenTests','autograder.nbgrader_ext.OfflineMaths',"
        "'nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']",
        *feedback_exporter_options(), check=False, gradebook=gradebook,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_feedback failed:\n{result.stderr[-3000:]}")
    print(f"feedback written under {course_root / 'feedback'}")


def grade_rows(course_root: Path = COURSE_ROOT, gradebook: str | None = None) -> list[dict]:
    """One row per student: the score of each graded function, the total and the maximum."""
    from nbgrader.api import Gradebook

    from .hidden_checks import CHECKS
    from .reference import GRADED_FUNCTIONS

    rows = []
    with Gradebook(resolve(course_root, gradebook)) as book:
        for student in sorted(s.id for s in book.students):
            try:
                submission = book.find_submission_notebook(
                    NOTEBOOK.removesuffix(".ipynb"), ASSIGNMENT, student
                )
            except Exception:
                continue
            row = {"student": student, **dict.fromkeys(GRADED_FUNCTIONS, 0.0)}
            for grade in submission.grades:
                check = CHECKS.get(grade.name)
                if check is not None:
                    row[check.function] += grade.score or 0.0
            row["total"] = sum(row[name] for name in GRADED_FUNCTIONS)
            row["max_score"] = float(sum(check.points for check in CHECKS.values()))
            rows.append(row)
    return rows


def grades(course_root: Path = COURSE_ROOT, gradebook: str | None = None) -> Path:
    """Write grades.csv: a column per graded function, the total and the maximum."""
    rows = grade_rows(course_root, gradebook)
    out = course_root / "grades.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["student"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} students written to {out}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.tools", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("command", choices=["release", "autograde", "feedback", "grades"])
    parser.add_argument("--course-root", type=Path, default=COURSE_ROOT)
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel (autograde)")
    parser.add_argument("--force", action="store_true", help="release: replace a notebook that holds work")
    parser.add_argument(
        "--mode",
        choices=["full", "points"],
        default="full",
        help="autograde: full (default) or points (only the cells the graded functions need)",
    )
    parser.add_argument("--gradebook", metavar="URL", default=None,
                        help="gradebook database URL, e.g. postgresql://USER@HOST/DB "
                             "(default: sqlite COURSE/gradebook.db)")  # fmt: skip
    parser.add_argument("--cluster", metavar="local:N|tcp://HOST:PORT", default=None,
                        help="autograde on Dask: N local workers, or a running scheduler")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "release":
        try:
            release(args.course_root, force=args.force, gradebook=args.gradebook)
        except ReleaseRefused as refused:
            print(refused, file=sys.stderr)
            return 1
    elif args.command == "autograde":
        from .grader.batch import exit_status

        if args.jobs < 1:
            parser.error("--jobs must be at least 1")
        return exit_status(
            lambda: grade_submissions(
                args.course_root,
                jobs=args.jobs,
                gradebook=args.gradebook,
                mode=args.mode,
                cluster=args.cluster,
            )
        )
    elif args.command == "feedback":
        feedback(args.course_root, args.gradebook)
    else:
        grades(args.course_root, args.gradebook)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
