"""The notebook's story helpers: one-sentence stops, dev-set tuning, the kick recommendation, set-up."""

from __future__ import annotations

import sys

import matplotlib
import numpy as np
import pytest
from reg_utils.datasets import generate

from reg_utils import initialize_parameters, load_2D_dataset, load_dev_set, predict_dec
from reg_utils.notebook import unfinished_message
from reg_utils.plotting import FIELD_XLIM, FIELD_YLIM, kick_target
from reg_utils.report import accuracy_table
from reg_utils.story import NotebookStop, report_test_once, require_trained, tune_on_dev
from testCases import compute_cost_with_regularization_test_case

matplotlib.use("Agg")


def test_the_dev_set_is_a_third_sample_sharing_no_point():
    train_X, _, test_X, _ = load_2D_dataset()
    dev_X, dev_Y = load_dev_set()
    assert dev_X.shape == (2, generate.N_DEV)
    assert dev_Y.shape == (1, generate.N_DEV)
    assert set(np.unique(dev_Y)) == {0.0, 1.0}
    seen = {tuple(p) for p in np.hstack([train_X, test_X]).T}
    assert not seen & {tuple(p) for p in dev_X.T}
    np.testing.assert_array_equal(load_dev_set()[0], dev_X)  # the same on every call


def test_a_fixture_left_in_parameters_stops_with_one_sentence():
    _, _, fixture = compute_cost_with_regularization_test_case()  # W1 of a 3-input network
    with pytest.raises(NotebookStop, match=r"^`parameters` is not a network trained .* run that cell again"):
        require_trained(fixture)
    with pytest.raises(NotebookStop):
        require_trained(None)
    lines = NotebookStop("the message")._render_traceback_()
    assert len(lines) == 1
    assert "the message" in lines[0]
    trained = initialize_parameters([2, 20, 3, 1])
    assert require_trained(trained) is trained


def test_tuning_scores_only_the_dev_set_and_keeps_the_first_of_equals(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    train_X, train_Y, _, _ = load_2D_dataset()
    dev_X, dev_Y = load_dev_set()
    calls = []

    def fake_model(X, Y, print_cost, **setting):
        calls.append(setting)
        return initialize_parameters([2, 20, 3, 1])  # the same network whatever the setting

    best = tune_on_dev(fake_model, (train_X, train_Y), (dev_X, dev_Y), lambdas=(0.1, 0.7), keep_probs=(0.8,))
    assert calls == [{"lambd": 0.1}, {"lambd": 0.7}, {"keep_prob": 0.8}]
    assert best.setting == {"lambd": 0.1}  # all tie: the first one tried wins
    out = capsys.readouterr().out
    assert "dev accuracy" in out
    assert "test" not in out


def test_under_the_autograder_tuning_is_skipped_with_a_note(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert (
        tune_on_dev(lambda *a, **k: pytest.fail("trained under the autograder"), (None, None), (None, None))
        is None
    )
    assert "skipped" in capsys.readouterr().out
    assert report_test_once(None, (None, None)) is None


def test_the_aim_point_is_inside_the_french_zone():
    parameters = initialize_parameters([2, 20, 3, 1])
    upper_left = lambda points: points[:, 1] > points[:, 0] + 0.1  # noqa: E731
    x1, x2 = kick_target(upper_left)
    assert FIELD_XLIM[0] <= x1 <= FIELD_XLIM[1]
    assert FIELD_YLIM[0] <= x2 <= FIELD_YLIM[1]
    assert x2 > x1 + 0.1
    # A crescent whose centre falls outside it: the nearest point of the zone is returned.
    ring = lambda points: np.abs(np.hypot(points[:, 0] + 0.2, points[:, 1]) - 0.3) < 0.05  # noqa: E731
    assert ring(np.array([kick_target(ring)]))[0]
    with pytest.raises(ValueError, match="no French header"):
        kick_target(lambda points: np.zeros(len(points), bool))
    assert isinstance(kick_target(lambda points: predict_dec(parameters, points.T)), tuple)


def test_accuracy_table_names_the_held_out_set(capsys):
    train_X, train_Y, _, _ = load_2D_dataset()
    dev_X, dev_Y = load_dev_set()
    rows = accuracy_table({"start": initialize_parameters([2, 20, 3, 1])}, (train_X, train_Y), (dev_X, dev_Y))
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[-2:] == ["dev", "accuracy"]
    assert row.endswith(f"{rows[0][2]:.1%}")
    assert header.index("dev") <= row.index(f"{rows[0][2]:.1%}")


def _raise_inside(name: str, exc: BaseException):
    namespace = {}
    exec(f"def {name}():\n    raise exc\n", {"exc": exc}, namespace)  # a frame named like the exercise
    try:
        namespace[name]()
    except BaseException:
        return sys.exc_info()
    raise AssertionError("nothing raised")


def test_an_unanswered_exercise_is_named_in_one_sentence():
    etype, value, tb = _raise_inside(
        "compute_cost_with_regularization", NameError("x", name="L2_regularization_cost")
    )
    message = unfinished_message(etype, value, tb)
    assert message.startswith("compute_cost_with_regularization is not finished: `L2_regularization_cost`")
    assert "\n" not in message
    etype, value, tb = _raise_inside("forward_propagation_with_dropout", NotImplementedError())
    assert unfinished_message(etype, value, tb).startswith(
        "forward_propagation_with_dropout is not written yet"
    )
    etype, value, tb = _raise_inside("some_cell", NameError("y", name="train_X"))
    assert unfinished_message(etype, value, tb).startswith(
        "`train_X` is not defined yet: run the cells above"
    )
