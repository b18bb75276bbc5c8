"""Writing results so that a crash at any instant leaves them consistent.

Three things are written per student, by the grader's single process, in
this order, and only once every verdict of the student is known:

1. the autograded notebook, to a temporary name then renamed into place;
2. the nbgrader gradebook: student, submission and every grade cell's
   ``auto_score`` in ONE database transaction (never a half-filled
   submission, never a NULL score);
3. the status: one line appended to ``.grading/status.log`` and synced, folded into
   ``.grading/status.json`` (temporary file + rename) at the start and end of a batch.

Before grading starts, a student's status says ``grading``; a run killed
midway leaves that mark, which the summary and the next run report as
half-graded, and the next run grades the student again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from pathlib import Path

from .text import encodable

STATE_DIR = ".grading"


class GradebookError(RuntimeError):
    """The gradebook lacks the assignment, or cannot be opened."""


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def course_lock(course_root: Path):
    """Hold the course's grading lock: two graders never write the same gradebook at once."""
    state = Path(course_root) / STATE_DIR
    state.mkdir(exist_ok=True)
    with open(state / "lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GradebookError(
                f"another grader is running on {course_root} (lock {state / 'lock'})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StatusFile:
    """Per student, the state of grading, scores, status and reason: ``.grading/status.json``.

    A change is one line appended to ``status.log`` and synced, so recording a student costs
    the same in a class of ten as in a MOOC (rewriting the whole file per student grew with the
    class). ``compact`` folds the log into ``status.json`` (temporary file + rename), then
    empties it: at the start of a batch, after a run that was killed, and at its end. A line
    cut by a crash is ignored; the student it named is graded again. ``read_status`` merges both.
    """

    def __init__(self, course_root: Path):
        state = Path(course_root) / STATE_DIR
        self.path, self.log_path = state / "status.json", state / "status.log"
        self.entries: dict = read_status(course_root)

    def half_graded(self) -> list[str]:
        """Students a previous run started but did not finish."""
        return sorted(s for s, e in self.entries.items() if e.get("status") in ("grading", "interrupted"))

    def set(self, student: str, **entry) -> None:
        self.entries[student] = {**entry, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        change = {"student": student, "entry": self.entries[student]}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(change, sort_keys=True) + "\n")
            log.flush()
            os.fsync(log.fileno())

    def compact(self) -> None:
        """Write every entry to ``status.json``, then empty the log (a crash between repeats no harm)."""
        if not self.log_path.exists():
            return  # nothing changed since status.json was written
        atomic_write(self.path, json.dumps({"students": self.entries}, indent=1, sort_keys=True) + "\n")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.log_path)


def read_status(course_root: Path) -> dict:
    """Per student, the latest status entry: ``status.json`` with the changes logged since applied."""
    state = Path(course_root) / STATE_DIR
    try:
        data = json.loads((state / "status.json").read_text(encoding="utf-8"))
        entries = dict(data.get("students", {})) if isinstance(data, dict) else {}
    except (OSError, ValueError):
        entries = {}
    try:
        with open(state / "status.log", encoding="utf-8", errors="replace") as log:
            for line in log:
                try:
                    change = json.loads(line)
                    entries[str(change["student"])] = dict(change["entry"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a crash: that student is graded again
    except OSError:
        pass
    return entries


def write_notebook(path: Path, notebook: dict) -> None:
    """Write a graded notebook; text a student controls may hold lone surrogates, made encodable here.

    Compact JSON: only then does ``json`` use its C encoder (an indented notebook of figures
    took milliseconds per student). The text keeps every character of a string as it is, so
    replacing surrogates in it is replacing them in each string.
    """
    atomic_write(path, encodable(json.dumps(notebook, ensure_ascii=False)) + "\n")


class GradebookWriter:
    """Single writer of nbgrader's gradebook for one assignment notebook."""

    def __init__(self, course_root: Path, assignment: str, notebook: str, url: str | None = None):
        from nbgrader.api import Gradebook, MissingEntry

        from .dburl import GradebookURLError, redacted, resolve, sqlite_path

        self.assignment, self.notebook = assignment, notebook
        try:
            url = resolve(course_root, url)
        except GradebookURLError as exc:
            raise GradebookError(str(exc)) from None
        path = sqlite_path(url)
        db = path if path is not None else redacted(url)
        if path is not None and (not path.is_file() or path.stat().st_size == 0):
            raise GradebookError(f"there is no gradebook {db}: run `make release` first")
        try:
            self.gradebook = Gradebook(url)
        except Exception as exc:
            raise GradebookError(f"cannot open the gradebook {db}: {exc}") from exc
        try:
            source = self.gradebook.find_notebook(notebook, assignment)
        except MissingEntry:
            self.gradebook.close()
            raise GradebookError(
                f"the gradebook {db} has no assignment {assignment}/{notebook}: run `make release` first"
            ) from None
        self.grade_cells = {cell.name: cell.max_score for cell in source.grade_cells}

    def close(self) -> None:
        self.gradebook.close()

    def record(
        self, student: str, scores: dict[str, float], unanswered: set[str], timestamp: str | None = None
    ) -> None:
        """Write one student's submission with every grade cell's score, in a single transaction."""
        from nbgrader import utils
        from nbgrader.api import Assignment, Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

        missing = set(self.grade_cells) - set(scores)
        if missing:
            raise GradebookError(f"no score for {sorted(missing)}: refusing to write a partial grade")
        db = self.gradebook.db
        try:
            with db.no_autoflush:
                person = db.get(Student, student)
                if person is None:
                    person = Student(id=student)
                    db.add(person)
                assignment = db.query(Assignment).filter(Assignment.name == self.assignment).one()
                submission = (
                    db.query(SubmittedAssignment)
                    .filter(
                        SubmittedAssignment.assignment_id == assignment.id,
                        SubmittedAssignment.student_id == student,
                    )
                    .one_or_none()
                )
                if submission is None:
                    submission = SubmittedAssignment(assignment=assignment, student=person)
                    db.add(submission)
                # ensure the full structure, repairing a submission another tool left incomplete
                for notebook in assignment.notebooks:
                    submitted = next((n for n in submission.notebooks if n.notebook_id == notebook.id), None)
                    if submitted is None:
                        submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                        db.add(submitted)
                    graded = {g.cell_id for g in submitted.grades}
                    commented = {c.cell_id for c in submitted.comments}
                    for cell in [*notebook.grade_cells, *notebook.task_cells]:
                        if cell.id not in graded:
                            db.add(Grade(cell_id=cell.id, notebook=submitted))
                    for cell in [*notebook.solution_cells, *notebook.task_cells]:
                        if cell.id not in commented:
                            db.add(Comment(cell_id=cell.id, notebook=submitted))
                if timestamp:
                    submission.timestamp = utils.parse_utc(timestamp)
            db.flush()  # still one transaction: nothing is visible to readers before the commit
            for submitted in submission.notebooks:
                if submitted.notebook.name != self.notebook:
                    continue
                names = {cell.id: cell.name for cell in submitted.notebook._base_cells}
                for grade in submitted.grades:
                    grade.auto_score = float(scores.get(names.get(grade.cell_id), 0.0))
                    grade.needs_manual_grade = grade.manual_score is not None
                for comment in submitted.comments:
                    comment.auto_comment = (
                        "No response." if names.get(comment.cell_id) in unanswered else None
                    )
            db.commit()
        except BaseException:
            db.rollback()
            raise


def auto_scores(course_root: Path, url: str | None = None) -> dict[str, list]:
    """Every automatic score in the gradebook, by student (None where nothing was recorded)."""
    import sqlalchemy

    from .dburl import resolve

    engine = sqlalchemy.create_engine(resolve(course_root, url))
    try:
        with engine.connect() as db:
            rows = db.execute(
                sqlalchemy.text(
                    "SELECT s.id, g.auto_score FROM grade g "
                    "JOIN submitted_notebook n ON g.notebook_id = n.id "
                    "JOIN submitted_assignment a ON n.assignment_id = a.id "
                    "JOIN student s ON a.student_id = s.id ORDER BY g.id"
                )
            ).fetchall()
    finally:
        engine.dispose()
    scores: dict[str, list] = {}
    for student, score in rows:
        scores.setdefault(student, []).append(score)
    return scores
