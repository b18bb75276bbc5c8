"""The instructor's round trip on the sample submissions: generate, autograde, feedback, export."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from autograder import tools
from autograder.mistakes import CATALOGUE
from autograder.reference import GRADED_FUNCTIONS
from autograder.samples import notebook_text, sample_notebooks

SAMPLES = Path(__file__).parent / "submissions"
KEPT_POINTS = {  # each mistake keeps these points of its own function; see test_hidden_checks
    "dropout_fwd_no_scaling": 2,
    "dropout_fwd_times_keep_prob": 2,
}


def expected_scores() -> dict[str, dict[str, float]]:
    scores = {
        "correct": dict.fromkeys(GRADED_FUNCTIONS, 10.0),
        "unanswered": dict.fromkeys(GRADED_FUNCTIONS, 0.0),
    }
    for mistake in CATALOGUE:
        scores[mistake.id] = dict.fromkeys(GRADED_FUNCTIONS, 10.0)
        scores[mistake.id][mistake.function] = float(KEPT_POINTS.get(mistake.id, 0))
    return scores


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_committed_samples_are_up_to_date():
    fresh = sample_notebooks()
    assert sorted(fresh) == sorted(p.name for p in SAMPLES.iterdir())
    for name, notebook in fresh.items():
        committed = (SAMPLES / name / "Regularization.ipynb").read_text(encoding="utf-8")
        assert committed == notebook_text(notebook), (
            f"tests/submissions/{name} is stale: run python -m autograder.samples"
        )


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory, built_once):
    """A course with every sample submitted, graded, fed back and exported."""
    built_once("graded_course")
    root = tmp_path_factory.mktemp("course")
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    tools.release(root, publish=False)
    for sample in SAMPLES.iterdir():
        target = root / "submitted" / sample.name / "regularization"
        target.mkdir(parents=True)
        shutil.copy(sample / "Regularization.ipynb", target)
    before = digest(root / "submitted")
    tools.autograde(root)
    tools.feedback(root)
    csv_path = tools.grades(root)
    return root, before, csv_path


@pytest.mark.slow
def test_every_sample_gets_its_exact_score_per_function(graded_course):
    root, _, _ = graded_course
    rows = {row["student"]: row for row in tools.grade_rows(root)}
    got = {student: {name: row[name] for name in GRADED_FUNCTIONS} for student, row in rows.items()}
    assert got == expected_scores()


@pytest.mark.slow
def test_the_csv_has_a_column_per_graded_function(graded_course):
    _, _, csv_path = graded_course
    with csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", *GRADED_FUNCTIONS, "total", "max_score"]
    by_student = {row["student"]: row for row in rows}
    assert float(by_student["correct"]["total"]) == 40.0
    assert float(by_student["l2_cost_missing_half"]["compute_cost_with_regularization"]) == 0.0
    assert float(by_student["l2_cost_missing_half"]["total"]) == 30.0


@pytest.mark.slow
def test_feedback_shows_neither_hidden_tests_nor_failing_asserts(graded_course):
    root, _, _ = graded_course
    html = (
        root / "feedback" / "dropout_bwd_new_masks" / "regularization" / "Regularization.html"
    ).read_text()
    for secret in ("run_check", "hidden_checks", "Traceback (most recent call last)"):
        assert secret not in html
    assert "Test failed: backward_propagation_with_dropout: case 1: dA2" in html
    assert "training shortened" in html  # the learner is told why the costs differ
    assert (root / "feedback" / "correct" / "regularization" / "Regularization.html").is_file()


@pytest.mark.slow
def test_submissions_are_read_only_to_the_grader(graded_course):
    root, before, _ = graded_course
    assert digest(root / "submitted") == before


@pytest.mark.slow
def test_a_renamed_notebook_is_graded_and_the_rename_logged(tmp_path, capsys):
    root = tmp_path / "course"
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    tools.release(root, publish=False)
    folder = root / "submitted" / "renamer" / "regularization"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLES / "correct" / "Regularization.ipynb", folder / "Regularization (1).ipynb")
    notes = tools.autograde(root)
    assert notes == {"renamer": "graded Regularization (1).ipynb (renamed by the student)"}
    assert tools.grade_rows(root)[0]["total"] == 40.0
    assert json.loads((folder / "Regularization (1).ipynb").read_text())  # untouched, still there
