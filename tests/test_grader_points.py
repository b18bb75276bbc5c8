"""Points-only mode: only the cells the graded functions need run, with the full mode's verdicts."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from autograder import tools
from autograder.grader.batch import Options, grade_course
from autograder.grader.points import NOT_RERUN, _bounded, called_functions, names_of, needed_steps
from autograder.grader.sandbox import Limits
from autograder.reference import ASSIGNMENT, GRADED_FUNCTIONS

SAMPLES = Path(__file__).parent / "submissions"
#: Short cell timeouts keep the hanging cells cheap; the default check timeout (10 s) keeps the
#: verdicts of working functions safe from a loaded machine (3 s was not, with 4 suites running).
LIMITS = Limits(cell_timeout=12, startup_timeout=90)
PLOT_CELL = "plot_dataset(train_X, train_Y)"


def test_a_function_reads_its_globals_not_its_arguments_or_locals():
    names = names_of(
        "import numpy as np\n"
        "def cost(parameters, lambd):\n"
        "    W1 = parameters['W1']\n"
        "    total = [w for w in range(3)]\n"
        "    return np.sum(W1) * lambd + helper(total) * SCALE\n"
        "value = cost(params, 0.1)\n"
    )
    assert names.defines == {"np", "cost", "value"}
    assert names.uses == {"np", "helper", "SCALE", "params", "cost"}
    assert names.imports
    assert names_of("def f(:\n").parsed is False


def test_needed_cells_follow_the_names_transitively_whatever_their_order():
    cells = {
        0: "import numpy as np",
        1: "def helper(x):\n    return x * K",
        2: "def graded(a):\n    return helper(a)",
        3: "parameters = model(train_X)\nplot(parameters)",
        4: "K = 2",
        5: "def model(X):\n    return graded(X)",
        6: "def broken(:",
        7: "print(graded(1))",
    }
    assert needed_steps(cells, {"graded"}) == {0, 1, 2, 4, 6}
    assert needed_steps(cells, set()) == {0, 6}


def test_the_hidden_tests_call_exactly_the_four_graded_functions():
    from autograder.grader.judge import Calls

    assert called_functions(Calls.build().wire_form) == set(GRADED_FUNCTIONS)


def test_kept_outputs_are_text_and_png_only_and_bounded():
    budget = [10]
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["a" * 30000]},
        {"output_type": "display_data", "data": {"text/html": "<script>x</script>", "text/plain": "ok"}},
        {"output_type": "display_data", "data": {"image/png": '"><script>alert(1)</script>'}},
        {"output_type": "display_data", "data": {"image/png": "iVBORw0K"}},
        {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgoAAAANS"}},  # over the budget
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["\x1b[31m..."]},
        "not an output",
    ]
    kept = _bounded(outputs, budget)
    assert kept[0] == {"output_type": "stream", "name": "stdout", "text": "a" * 20000}
    assert [k["output_type"] for k in kept] == ["stream", "display_data"]  # no text left for the rest
    assert kept[1]["data"] == {"image/png": "iVBORw0K"}
    assert budget == [2]
    kept = _bounded(outputs[1:], [100])
    assert [k["data"] for k in kept[:1]] == [{"text/plain": "ok"}]
    assert kept[-1] == {"output_type": "stream", "name": "stderr", "text": "ValueError: bad\n"}
    assert "script" not in json.dumps(kept)


def _course(base: Path) -> Path:
    root = base / "course"
    root.mkdir(parents=True)
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    tools.release(root, publish=False)
    return root


def _with_saved_outputs(notebook: dict) -> dict:
    """The correct sample as saved by a student who ran it: a plot cell with text, HTML and a PNG."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith(PLOT_CELL):
            cell["outputs"] = [
                {"output_type": "stream", "name": "stdout", "text": "STUDENT-SAVED-TEXT\n"},
                {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>STUDENT-HTML</b>"}},
                {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}},
            ]
    return notebook


@pytest.fixture(scope="module")
def samples_both_ways(tmp_path_factory, built_once):
    """Every sample graded in full mode and in points mode (plus a sample with saved outputs)."""
    built_once("samples_both_ways")
    results = {}
    for mode in ("full", "points"):
        root = _course(tmp_path_factory.mktemp(mode))
        for sample in SAMPLES.iterdir():
            target = root / "submitted" / sample.name / ASSIGNMENT
            target.mkdir(parents=True)
            shutil.copy(sample / "Regularization.ipynb", target)
        saved = root / "submitted" / "saved_outputs" / ASSIGNMENT
        saved.mkdir(parents=True)
        notebook = json.loads((SAMPLES / "correct" / "Regularization.ipynb").read_text())
        (saved / "Regularization.ipynb").write_text(json.dumps(_with_saved_outputs(notebook)))
        graded = grade_course(root, Options(jobs=2, mode=mode, stream=io.StringIO()))
        results[mode] = (root, {r.student: r for r in graded})
    tools.feedback(results["points"][0])
    return results


def _verdicts(results: dict) -> dict:
    """Status, score per function and which hidden tests passed, per student.

    Not the failure details: a wrong function that draws unseeded random numbers
    (dropout_bwd_new_masks) gets other numbers when the training cells before
    it, which consume the global RNG, are not run, so its list of differing
    arrays can change; its verdict cannot.
    """
    return {
        s: (r.status, r.scores, sorted(gid for gid, failure in r.checks.items() if failure is None))
        for s, r in results.items()
    }


@pytest.mark.slow
def test_points_mode_gives_the_full_modes_verdicts_on_every_sample(samples_both_ways):
    full, points = samples_both_ways["full"][1], samples_both_ways["points"][1]
    assert len(full) == len(list(SAMPLES.iterdir())) + 1
    differ = {
        s: (full[s].reason, points[s].reason)
        for s in full
        if _verdicts({s: full[s]}) != _verdicts({s: points[s]})
    }
    assert _verdicts(points) == _verdicts(full), f"the reasons (full, points): {differ}"
    assert points["correct"].total == 40.0
    same_reasons = [s for s in full if s != "dropout_bwd_new_masks"]
    assert {s: points[s].reason for s in same_reasons} == {s: full[s].reason for s in same_reasons}


@pytest.mark.slow
def test_points_mode_keeps_the_students_outputs_and_says_they_were_not_rerun(samples_both_ways):
    root = samples_both_ways["points"][0]
    graded = json.loads(
        (root / "autograded" / "saved_outputs" / ASSIGNMENT / "Regularization.ipynb").read_text()
    )
    code = {"".join(c["source"]): c["outputs"] for c in graded["cells"] if c["cell_type"] == "code"}
    plot = next(outputs for source, outputs in code.items() if source.startswith(PLOT_CELL))
    assert plot[0]["text"] == NOT_RERUN
    assert plot[1] == {"output_type": "stream", "name": "stdout", "text": "STUDENT-SAVED-TEXT\n"}
    assert plot[2]["data"] == {"image/png": "iVBORw0KGgo="}
    assert len(plot) == 3  # the HTML output is dropped
    training = next(outputs for source, outputs in code.items() if source.startswith("parameters = model("))
    assert training[0]["text"] == NOT_RERUN  # the training runs are not re-run
    html = (root / "feedback" / "saved_outputs" / ASSIGNMENT / "Regularization.html").read_text()
    assert "this cell was not re-run" in html
    assert "STUDENT-SAVED-TEXT" in html
    assert "<b>STUDENT-HTML</b>" not in html


# Every corpus entry's expected scores in points mode: tests/test_grader_cluster.py, which grades
# the corpus once per set-up (here, on a LocalCluster, on a scheduler) and compares them.


def test_both_command_lines_pass_the_mode_through(monkeypatch, tmp_path):
    from autograder.grader.__main__ import options_from, parser

    assert options_from(parser().parse_args(["--mode", "points"])).mode == "points"
    assert options_from(parser().parse_args([])).mode == "full"
    seen = {}
    monkeypatch.setattr(tools, "grade_submissions", lambda root, **kw: seen.update(kw) or [])
    assert tools.main(["autograde", "--course-root", str(tmp_path), "--mode", "points"]) == 0
    assert seen == {"jobs": 2, "gradebook": None, "mode": "points", "cluster": None}
    with pytest.raises(SystemExit):
        parser().parse_args(["--mode", "fast"])


def test_an_unknown_mode_is_a_clear_error(tmp_path):
    from autograder.grader.batch import GradingError

    shutil.copytree(tools.COURSE_ROOT / "source", tmp_path / "source")
    (tmp_path / "release" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(tools.STUDENT_RELEASE, tmp_path / "release" / ASSIGNMENT)
    (tmp_path / "submitted").mkdir()
    with pytest.raises(GradingError, match="unknown grading mode 'fast': use one of full, points"):
        grade_course(tmp_path, Options(mode="fast", stream=io.StringIO()))
