"""predict / predict_dec and plot_decision_boundary (headless, Agg)."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

from reg_utils import (
    initialize_parameters,
    load_2D_dataset,
    plot_decision_boundary,
    predict,
    predict_dec,
)

FIELD_XLIM = (-0.75, 0.40)
FIELD_YLIM = (-0.75, 0.65)


@pytest.fixture
def threshold_network():
    """A hand-made network that says 1 exactly when x1 > 0.5."""
    return {
        "W1": np.array([[1.0, 0.0], [0.0, 1.0]]),
        "b1": np.zeros((2, 1)),
        "W2": np.array([[1.0, 0.0]]),
        "b2": np.zeros((1, 1)),
        "W3": np.array([[1.0]]),
        "b3": np.array([[-0.5]]),
    }


@pytest.fixture
def headless(monkeypatch):
    """Agg with no display, as in CI; every figure is closed afterwards.

    With DISPLAY set, matplotlib warns that Agg cannot show figures, which
    says nothing about the kit; without it, ``plt.show()`` is silent.
    """
    monkeypatch.delenv("DISPLAY", raising=False)
    assert matplotlib.get_backend().lower() == "agg"
    plt.close("all")
    yield
    plt.close("all")


def test_predict_prints_accuracy_with_12_significant_digits(threshold_network, capsys):
    X = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    y = np.array([[1, 0, 0]])

    predictions = predict(X, y, threshold_network)

    assert capsys.readouterr().out == "Accuracy: 0.666666666667\n"
    assert predictions.shape == (1, 3)
    assert predictions.dtype.kind == "i"
    np.testing.assert_array_equal(predictions, [[1, 0, 1]])


@pytest.mark.parametrize(
    ("labels", "printed"),
    [([[1, 0, 1, 0]], "Accuracy: 1.0"), ([[0, 0, 1, 0]], "Accuracy: 0.75"),
     ([[0, 1, 0, 1]], "Accuracy: 0.0")],
)  # fmt: skip
def test_predict_accuracy_values(threshold_network, capsys, labels, printed):
    X = np.array([[0.9, 0.1, 3.0, -1.0], [5.0, 5.0, -5.0, 0.0]])
    predict(X, np.array(labels, dtype=float), threshold_network)
    assert capsys.readouterr().out == printed + "\n"


def test_predict_on_the_kit_data_prints_one_line_of_the_assignment_format(capsys):
    X, Y, _, _ = load_2D_dataset()
    predictions = predict(X, Y, initialize_parameters([2, 20, 3, 1]))
    out = capsys.readouterr().out
    assert out.startswith("Accuracy: ")
    assert out.count("\n") == 1
    accuracy = float(out.split()[1])
    assert accuracy == pytest.approx(np.mean(predictions == Y), abs=5e-13)
    assert set(np.unique(predictions)) <= {0, 1}
    assert predictions.shape == (1, 211)


def test_predict_dec_returns_boolean_decisions_silently(threshold_network, capsys):
    X = np.array([[0.2, 0.7, 0.5, 10.0], [0.0, -3.0, 1.0, 0.0]])
    decisions = predict_dec(threshold_network, X)
    assert capsys.readouterr().out == ""
    assert decisions.dtype == np.bool_
    assert decisions.shape == (1, 4)
    np.testing.assert_array_equal(decisions, [[False, True, False, True]])


class RecordingModel:
    """A model with a visible boundary (x2 > x1) that remembers the points it was asked about."""

    def __init__(self):
        self.points = None

    def __call__(self, points):
        self.points = points
        return points[:, 1] > points[:, 0]


def drawn_artists(ax):
    contours = [c for c in ax.collections if isinstance(c, ContourSet)]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    scatters = [c for c in scatters if not isinstance(c, ContourSet)]
    return contours, scatters


def test_plot_keeps_limits_set_beforehand(headless):
    X, Y, _, _ = load_2D_dataset()
    _, ax = plt.subplots()
    ax.set_xlim(list(FIELD_XLIM))
    ax.set_ylim(list(FIELD_YLIM))
    model = RecordingModel()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_decision_boundary(model, X, Y)

    assert plt.gca() is ax
    assert ax.get_xlim() == pytest.approx(FIELD_XLIM, abs=1e-12)
    assert ax.get_ylim() == pytest.approx(FIELD_YLIM, abs=1e-12)
    # The decision grid is laid over exactly those limits.
    assert model.points.shape[1] == 2
    assert model.points[:, 0].min() == pytest.approx(FIELD_XLIM[0])
    assert model.points[:, 0].max() == pytest.approx(FIELD_XLIM[1])
    assert model.points[:, 1].min() == pytest.approx(FIELD_YLIM[0])
    assert model.points[:, 1].max() == pytest.approx(FIELD_YLIM[1])
    contours, scatters = drawn_artists(ax)
    assert len(contours) == 1
    assert len(scatters) == 1
    assert len(scatters[0].get_offsets()) == X.shape[1]


def test_plot_without_limits_covers_the_data(headless):
    X, Y, _, _ = load_2D_dataset()
    parameters = initialize_parameters([2, 20, 3, 1])
    calls = []

    def model(points):
        calls.append(points)
        return predict_dec(parameters, points.T)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_decision_boundary(model, X, Y)

    ax = plt.gca()
    (points,) = calls
    for row in (0, 1):
        assert points[:, row].min() < X[row].min()
        assert points[:, row].max() > X[row].max()
    x_lo, x_hi = ax.get_xlim()
    y_lo, y_hi = ax.get_ylim()
    assert x_lo <= X[0].min()
    assert X[0].max() <= x_hi
    assert y_lo <= X[1].min()
    assert X[1].max() <= y_hi
    contours, scatters = drawn_artists(ax)
    assert len(contours) == 1
    assert len(scatters) == 1
    np.testing.assert_array_equal(np.asarray(scatters[0].get_offsets()), X.T)
