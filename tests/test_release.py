"""The student release is generated from the instructor source and never drifts from it."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from autograder import tools
from autograder.hidden_checks import CHECKS
from autograder.reference import GRADED_FUNCTIONS, SOURCE_NOTEBOOK
from autograder.samples import solution_regions

VOLATILE_METADATA = ("language_info",)


def normalised(path) -> dict:
    """The notebook without metadata that depends on the machine that wrote it."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for key in VOLATILE_METADATA:
        notebook["metadata"].pop(key, None)
    return notebook


def cells_by_id(path) -> dict:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: cell
        for cell in notebook["cells"]
        if "nbgrader" in cell.get("metadata", {})
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch copy of the course (config and source) to generate into."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    return root


def test_committed_release_equals_a_fresh_generation(course):
    generated = tools.release(course, publish=False)
    assert normalised(generated) == normalised(tools.STUDENT_RELEASE), (
        "notebooks/Regularization.ipynb is stale: run `make release` and commit it"
    )


def test_release_contains_no_solution_code_and_no_hidden_tests():
    text = tools.STUDENT_RELEASE.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_check", "hidden_checks"):
        assert marker not in text
    source_cells = cells_by_id(SOURCE_NOTEBOOK)
    for name in GRADED_FUNCTIONS:
        for region in solution_regions("".join(source_cells[name]["source"])):
            for line in filter(None, (line.strip() for line in region.splitlines())):
                assert line not in text, f"solution line of {name} leaked: {line}"


def test_release_stubs_read_like_the_assignment():
    cells = cells_by_id(tools.STUDENT_RELEASE)
    expected_lines = {
        "compute_cost_with_regularization": ["1 line"],
        "backward_propagation_with_regularization": ["1 line"] * 3,
        "forward_propagation_with_dropout": ["4 lines"] * 2,
        "backward_propagation_with_dropout": ["2 lines"] * 2,
    }
    for name, counts in expected_lines.items():
        source = "".join(cells[name]["source"])
        assert re.findall(
            r"### START CODE HERE ### \(approx\. ([^)]*)\)\n\s*### END CODE HERE ###", source
        ) == (counts)
        assert f"def {name}(" in source  # signature and docstring survive


def test_grade_cells_carry_the_points_of_the_hidden_checks():
    cells = cells_by_id(SOURCE_NOTEBOOK)
    graded = {gid: cell for gid, cell in cells.items() if cell["metadata"]["nbgrader"].get("grade")}
    assert set(graded) == set(CHECKS)
    for gid, cell in graded.items():
        assert cell["metadata"]["nbgrader"]["points"] == CHECKS[gid].points
        assert cell["metadata"]["nbgrader"]["locked"] is True
        assert "".join(cell["source"]).startswith('"""'), f"{gid} opens with a one-line docstring"
    per_function = {
        name: sum(c.points for c in CHECKS.values() if c.function == name) for name in GRADED_FUNCTIONS
    }
    assert per_function == dict.fromkeys(GRADED_FUNCTIONS, 10)
    assert all(sum(c.function == name for c in CHECKS.values()) >= 3 for name in GRADED_FUNCTIONS)


def _validate(*args):
    result = tools.nbgrader(tools.COURSE_ROOT, "validate", *args, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_nbgrader_validate_passes_the_source():
    code, output = _validate(str(SOURCE_NOTEBOOK))
    assert "Success! Your notebook passes all the tests." in output, output[-2000:]
    assert code == 0


@pytest.mark.slow
def test_nbgrader_validate_invert_fails_every_test_of_the_release():
    code, output = _validate("--invert", str(tools.STUDENT_RELEASE))
    assert "Success! The notebook does not pass any tests." in output, output[-2000:]
    assert code == 0


def test_release_refuses_to_overwrite_a_notebook_holding_work(course, tmp_path, root):
    """`make release` keeps a student's answers unless told otherwise (FORCE=1 / --force)."""
    target = tmp_path / "Regularization.ipynb"
    answered = (root / "tests" / "submissions" / "correct" / "Regularization.ipynb").read_bytes()
    target.write_bytes(answered)
    assert tools.work_in(target)  # the answered submission counts as work
    with pytest.raises(
        tools.ReleaseRefused, match=r"holds work \(answers in compute_cost_with_regularization.*FORCE=1"
    ):
        tools.release(course, target=target)
    assert target.read_bytes() == answered  # untouched
    tools.release(course, target=target, force=True)
    assert normalised(target) == normalised(tools.STUDENT_RELEASE)
    assert tools.work_in(target) == []  # a fresh release holds no work, so it may be replaced
    tools.release(course, target=target)
