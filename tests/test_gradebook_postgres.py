"""GRADEBOOK=postgresql://...: release, autograde, feedback and grades on a real PostgreSQL server."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from autograder import tools
from autograder.grader.dburl import GradebookURLError, holds_assignment, redacted, resolve, sqlite_path
from autograder.grader.gradebook import auto_scores
from autograder.reference import ASSIGNMENT, GRADED_FUNCTIONS
from tests.postgres_server import running_postgres, server_bin

SAMPLES = Path(__file__).parent / "submissions"
STUDENTS = {  # sample -> expected score per graded function, in GRADED_FUNCTIONS order
    "correct": [10.0, 10.0, 10.0, 10.0],
    "unanswered": [0.0, 0.0, 0.0, 0.0],
    "l2_cost_missing_half": [0.0, 10.0, 10.0, 10.0],
    "dropout_bwd_new_masks": [10.0, 10.0, 10.0, 0.0],
}


def test_the_default_gradebook_is_the_course_sqlite_file(tmp_path):
    assert resolve(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert sqlite_path(resolve(tmp_path)) == tmp_path.resolve() / "gradebook.db"
    assert resolve(tmp_path, "sqlite:////x/g.db") == "sqlite:////x/g.db"


def test_a_postgresql_url_gets_the_psycopg_driver_and_hides_its_password(tmp_path):
    url = resolve(tmp_path, "postgresql://ta:s3cret@db.example:5433/course")
    assert url == "postgresql+psycopg://ta:s3cret@db.example:5433/course"
    assert sqlite_path(url) is None
    assert redacted(url) == "postgresql+psycopg://ta:***@db.example:5433/course"
    assert redacted("postgresql://ta@db/course") == "postgresql://ta@db/course"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "gradebook.db", "postgresql:/x"])
def test_an_unusable_gradebook_url_is_a_clear_error(tmp_path, url):
    with pytest.raises(GradebookURLError, match="leave GRADEBOOK unset"):
        resolve(tmp_path, url)


def test_the_cli_reports_an_unusable_gradebook_url(tmp_path, capsys):
    shutil.copytree(tools.COURSE_ROOT / "source", tmp_path / "source")
    (tmp_path / "submitted").mkdir()
    code = tools.main(["autograde", "--course-root", str(tmp_path), "--gradebook", "mysql://ta:pw@h/db"])
    assert code == 2
    err = capsys.readouterr().err
    assert "mysql://ta:***@h/db" in err
    assert "pw" not in err


@pytest.fixture(scope="module")
def postgres_course(tmp_path_factory, built_once):
    """A course released, graded (twice), fed back and exported through a PostgreSQL gradebook."""
    if server_bin() is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (.ci/run does so as root)")
    built_once("postgres_course")
    root = tmp_path_factory.mktemp("pgcourse")
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    for sample in STUDENTS:
        target = root / "submitted" / sample / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(SAMPLES / sample / "Regularization.ipynb", target)
    with running_postgres() as url:
        assert not holds_assignment(resolve(root, url), ASSIGNMENT)
        assert tools.main(["release", "--course-root", str(root), "--gradebook", url]) == 0
        assert holds_assignment(resolve(root, url), ASSIGNMENT)
        assert tools.main(["autograde", "--course-root", str(root), "--gradebook", url]) == 0
        first = auto_scores(root, url)
        assert tools.main(["autograde", "--course-root", str(root), "--gradebook", url]) == 0
        again = auto_scores(root, url)
        assert tools.main(["feedback", "--course-root", str(root), "--gradebook", url]) == 0
        assert tools.main(["grades", "--course-root", str(root), "--gradebook", url]) == 0
        rows = tools.grade_rows(root, url)
        yield {"root": root, "first": first, "again": again, "rows": rows}


def test_every_grade_lands_in_postgresql_and_none_in_sqlite(postgres_course):
    rows = {row["student"]: [row[f] for f in GRADED_FUNCTIONS] for row in postgres_course["rows"]}
    assert rows == STUDENTS
    assert not (postgres_course["root"] / "gradebook.db").exists()


def test_grading_twice_updates_the_same_rows(postgres_course):
    first, again = postgres_course["first"], postgres_course["again"]
    assert sorted(first) == sorted(STUDENTS)
    assert again == first
    assert all(None not in scores for scores in first.values())
    assert {len(scores) for scores in first.values()} == {len(first["correct"])}
    assert sum(first["correct"]) == 40.0


def test_feedback_and_csv_come_from_the_postgresql_gradebook(postgres_course):
    root = postgres_course["root"]
    html = (root / "feedback" / "dropout_bwd_new_masks" / ASSIGNMENT / "Regularization.html").read_text()
    assert "Test failed: backward_propagation_with_dropout: case 1: dA2" in html
    with (root / "grades.csv").open() as handle:
        totals = {row["student"]: float(row["total"]) for row in csv.DictReader(handle)}
    assert totals == {student: sum(scores) for student, scores in STUDENTS.items()}
