"""Reading submissions and deciding what runs: the source notebook's word, never the student's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from autograder.grader.extract import choose_notebook, parse_notebook, read_submission
from autograder.grader.judge import Calls, judge
from autograder.grader.plan import Assignment, assemble, plan
from autograder.hidden_checks import CHECKS, verdict
from autograder.mistakes import CATALOGUE, mistaken_function
from autograder.reference import GRADED_FUNCTIONS, SOURCE_NOTEBOOK, reference_solutions
from autograder.tools import COURSE_ROOT, STUDENT_RELEASE
from tests import corpus

TEST_IDS = list(CHECKS)


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return Assignment.load(SOURCE_NOTEBOOK, STUDENT_RELEASE)


@pytest.fixture(scope="module")
def ctx() -> corpus.Context:
    release = json.loads(STUDENT_RELEASE.read_text(encoding="utf-8"))
    return corpus.Context(release, COURSE_ROOT, COURSE_ROOT.parent)


def cells_of(notebook: dict):
    return parse_notebook(corpus.dumps(notebook))


def checks_in(result) -> list[str]:
    return [step["id"] for step in result.steps if step["kind"] == "check"]


def code_run(result) -> str:
    return "\n".join(step["source"] for step in result.steps if step["kind"] == "cell")


def test_the_source_and_the_hidden_checks_agree(assignment):
    assignment.check_against(CHECKS)
    assert list(assignment.tests) == TEST_IDS


def test_a_complete_submission_runs_its_cells_and_every_test_in_place(assignment, ctx):
    result = plan(cells_of(corpus.answered(ctx)), assignment)
    assert checks_in(result) == TEST_IDS
    assert result.notes == []
    run = code_run(result)
    assert "L2_regularization_cost = lambd / (2 * m)" in run  # the student's answer runs
    for secret in ("BEGIN HIDDEN TESTS", "run_check", "hidden_checks", "assert np.isclose"):
        assert secret not in run  # no test cell, visible part included, goes to the sandbox


def test_stripped_metadata_is_matched_by_text(assignment, ctx):
    full = plan(cells_of(corpus.answered(ctx)), assignment)
    stripped = plan(cells_of(corpus._stripped(corpus.answered(ctx))), assignment)
    assert checks_in(stripped) == TEST_IDS
    assert code_run(stripped) == code_run(full)
    assert "no nbgrader metadata" in stripped.notes[0]


def test_deleted_and_edited_cells_are_restored_from_the_source(assignment, ctx):
    result = plan(cells_of(corpus._mangled(corpus.answered(ctx))), assignment)
    assert checks_in(result) == TEST_IDS  # every deleted test is back, in the source's order
    run = code_run(result)
    assert "no training today" not in run
    assert "def model(X, Y" in run
    assert "from testCases import *" in run
    notes = " ".join(result.notes)
    assert "imports, model were edited" in notes
    assert "were added back" in notes
    # each restored test sits right after its function's cells, not at the end
    order = [c.grade_id for c in result.cells if c.grade_id]
    assert order.index("l2_cost_fixture") < order.index("backward_propagation_with_regularization")


def test_forged_metadata_neither_skips_code_nor_invents_tests(assignment, ctx):
    notebook = corpus.answered(ctx)
    evil = "import os\nos.system('echo forged')\n"
    notebook["cells"].insert(5, {**corpus.code_cell(evil), "metadata": {"nbgrader": {
        "grade": True, "grade_id": "bonus_points", "points": 100, "locked": True}}})  # fmt: skip
    notebook["cells"].insert(1, {**corpus.code_cell("print('imports')"), "metadata": {"nbgrader": {
        "grade": False, "grade_id": "imports", "locked": True}}})  # fmt: skip
    notebook["cells"].insert(7, {**corpus.code_cell("pass"), "metadata": {"nbgrader": {
        "grade": True, "grade_id": "l2_cost_fixture", "points": 30}}})  # fmt: skip
    result = plan(cells_of(notebook), assignment)
    assert evil in code_run(result)  # an invented "test" is just student code: it runs
    assert checks_in(result) == TEST_IDS  # no bonus test; l2_cost_fixture once
    assert "print('imports')" not in code_run(result)  # a cell posing as a locked one runs the original
    assert "duplicate test cell(s) l2_cost_fixture" in " ".join(result.notes)


def test_the_graded_notebook_reports_failures_as_the_stock_path_does(assignment, ctx):
    result = plan(cells_of(corpus.answered(ctx)), assignment)
    failures = dict.fromkeys(CHECKS)
    failures["l2_cost_fixture"] = "compute_cost_with_regularization: case 1: the cost differs"
    cells = {
        k: ([{"output_type": "stream", "name": "stdout", "text": "hi\n"}], 1)
        for k in range(len(result.steps))
    }
    notebook = assemble(result, assignment, cells, failures, preface="**Notes**")
    nbformat.validate(nbformat.from_dict(notebook))
    test_cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"]
                  if c["metadata"].get("nbgrader", {}).get("grade")}  # fmt: skip
    assert set(test_cells) == set(CHECKS)
    assert test_cells["l2_cost_fixture"]["outputs"][0]["ename"] == "CheckFailed"
    assert test_cells["l2_cost_fresh_inputs"]["outputs"] == []
    assert all(c["metadata"].get("nbgrader", {}).get("grade_id") != "bonus" for c in notebook["cells"])


# ---------------------------------------------------------------- reading files


def test_choosing_the_notebook(tmp_path):
    (tmp_path / "Untitled.ipynb").write_text("{}")
    assert choose_notebook(tmp_path) == (
        tmp_path / "Untitled.ipynb",
        "graded Untitled.ipynb (renamed by the student)",
    )
    (tmp_path / "Regularization (1).ipynb").write_text("{}")
    chosen, note = choose_notebook(tmp_path)
    assert chosen.name == "Regularization (1).ipynb"
    assert "ignored Untitled.ipynb" in note
    (tmp_path / "Regularization.ipynb").write_text("{}")
    chosen, note = choose_notebook(tmp_path)
    assert chosen.name == "Regularization.ipynb"
    assert "also found" in note
    (tmp_path / "Regularization.ipynb").unlink()
    (tmp_path / "Regularization.ipynb").symlink_to(SOURCE_NOTEBOOK)
    chosen, note = choose_notebook(tmp_path)
    assert chosen.name != "Regularization.ipynb"
    assert "symbolic link" in note


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"nbformat": 3, "worksheets": []}', "format 3"),
        (b'{"nbformat": 4, "cells": {}}', "no list of cells"),
        (b'{"nbformat": 4, "cells": [1]}', "cell 1 is not an object"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": [1]}]}', "cell 1"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_broken_notebooks_give_a_one_line_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        parse_notebook(data)


def test_read_submission_never_raises(tmp_path):
    folder = tmp_path / "regularization"
    assert "no assignment folder" in read_submission("s", folder).problem
    folder.mkdir()
    assert read_submission("s", folder).problem == "no notebook in the submission"
    (folder / "Regularization.ipynb").write_bytes(b"{}" + b" " * 2000)
    assert "larger than" in read_submission("s", folder, max_bytes=1000).problem
    (folder / "Regularization.ipynb").write_bytes(b'{"nbformat": 4, "cells": []}')
    submission = read_submission("s", folder)
    assert submission.problem is None
    assert submission.cells == []
    assert len(submission.digest) == 64
    linked = tmp_path / "linked"
    linked.symlink_to(tmp_path, target_is_directory=True)
    assert "symbolic link" in read_submission("s", linked / "regularization").problem
    os.chmod(folder / "Regularization.ipynb", 0)
    if os.geteuid() != 0:  # root reads anything
        assert "cannot be opened" in read_submission("s", folder).problem


# ---------------------------------------------------------------- verdicts


def outputs_of(functions: dict, calls: Calls) -> dict:
    from autograder.grader.harness import perform

    return {
        gid: [json.loads(perform(call, functions)) for call in wire_calls]
        for gid, wire_calls in calls.wire_form.items()
    }


@pytest.mark.parametrize("mistake", [None, *CATALOGUE], ids=lambda m: m.id if m else "reference")
def test_fixture_twins_never_change_the_verdict_of_real_code(mistake):
    """Twins catch memorised answers; any implementation that computes gets its stock verdict."""
    functions = dict(reference_solutions())
    if mistake is not None:
        functions[mistake.function] = mistaken_function(mistake)
    calls = Calls.build()
    raw = outputs_of(functions, calls)
    for gid, check in CHECKS.items():
        from autograder.grader.judge import plain_output

        plain = [plain_output(tree) for tree in raw[gid][: len(calls.calls[gid])]]
        stock = verdict(check, plain)
        assert (judge(gid, raw[gid], calls) is None) == (stock is None), gid


def test_fixture_checks_have_twins_that_move_the_hyperparameter():
    calls = Calls.build()
    with_twins = {gid for gid, twins in calls.twins.items() if twins}
    assert with_twins == {"l2_cost_fixture", "l2_backward_fixture", "dropout_forward_fixture",
                          "dropout_backward_fixture"}  # fmt: skip
    twin = calls.twins["l2_cost_fixture"][0]
    assert twin.kwargs["lambd"] != calls.calls["l2_cost_fixture"][0].kwargs["lambd"]


def test_memorised_answers_fail_the_twins():
    import testCases

    calls = Calls.build()
    kwargs = {"compute_cost_with_regularization": {"lambd": 0.1},
              "backward_propagation_with_regularization": {"lambd": 0.7},
              "forward_propagation_with_dropout": {"keep_prob": 0.7},
              "backward_propagation_with_dropout": {"keep_prob": 0.8}}  # fmt: skip
    memorised = {}
    for name, function in reference_solutions().items():
        answer = function(*getattr(testCases, f"{name}_test_case")(), **kwargs[name])
        memorised[name] = lambda *a, _answer=answer, **k: _answer
    raw = outputs_of(memorised, calls)
    for name in GRADED_FUNCTIONS:
        fixture = {"compute_cost_with_regularization": "l2_cost_fixture",
                   "backward_propagation_with_regularization": "l2_backward_fixture",
                   "forward_propagation_with_dropout": "dropout_forward_fixture",
                   "backward_propagation_with_dropout": "dropout_backward_fixture"}[name]  # fmt: skip
        reason = judge(fixture, raw[fixture], calls)
        assert reason is not None
        assert "hard-coded" in reason


def test_an_incomplete_result_set_fails_with_a_reason():
    calls = Calls.build()
    assert "incomplete" in judge("l2_cost_fixture", [], calls)
    assert "incomplete" in judge("l2_cost_fixture", "junk", calls)
    bad = [{"$nd": ["|O", [1], ""]}] * len(calls.wire_form["l2_cost_fixture"])
    assert "could not be read" in judge("l2_cost_fixture", bad, calls)


def test_release_and_source_paths_exist():
    assert Path(STUDENT_RELEASE).is_file()
    assert Path(SOURCE_NOTEBOOK).is_file()


def test_the_scratch_copy_takes_regular_files_only_within_budget(tmp_path):
    from autograder.grader.sandbox import _copy_submission

    folder = tmp_path / "submission"
    (folder / "data").mkdir(parents=True)
    (folder / "Regularization.ipynb").write_text("{}")
    (folder / "data" / "big.bin").write_bytes(b"x" * 5000)
    (folder / "secrets").symlink_to("/etc/passwd")
    (folder / "data" / "up").symlink_to(tmp_path, target_is_directory=True)
    _copy_submission(folder, tmp_path / "copy", budget=1000)
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["Regularization.ipynb", "data"]  # no links followed, nothing over budget
