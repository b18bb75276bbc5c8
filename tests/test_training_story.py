"""The three models of the assignment: the story on the kit's data, and fidelity to the original figures."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from autograder.reference import reference_solutions
from reg_utils import (
    accuracy,
    backward_propagation,
    compute_cost,
    forward_propagation,
    gradient_descent,
    initialize_parameters,
    load_2D_dataset,
    load_dev_set,
)

#: The assignment's printed figures on the course's original data (expected_outputs.json).
ORIGINAL = {
    "baseline": ({}, (0.6557412523481002, 0.16329987525724216, 0.13851642423255986), 0.947867298578, 0.915),
    "l2": ({"lambd": 0.7}, (0.6974484493131264, 0.2684918873282239, 0.2680916337127301), 0.938388625592, 0.93),
    "dropout": ({"keep_prob": 0.86}, (0.6543912405149825, 0.06101698657490559, 0.060582435798513114),
                0.928909952607, 0.95),
}  # fmt: skip


def train(X, Y, lambd=0.0, keep_prob=1.0):
    """The assignment's model: one regularizer at a time, lr 0.3, 30000 iterations, layers [2, 20, 3, 1]."""
    graded = reference_solutions()
    forward, backward = forward_propagation, backward_propagation
    if keep_prob < 1:
        forward = functools.partial(graded["forward_propagation_with_dropout"], keep_prob=keep_prob)
        backward = functools.partial(graded["backward_propagation_with_dropout"], keep_prob=keep_prob)
    if lambd:
        backward = functools.partial(graded["backward_propagation_with_regularization"], lambd=lambd)
        cost = functools.partial(graded["compute_cost_with_regularization"], lambd=lambd)
    else:
        cost = lambda a3, y, parameters: compute_cost(a3, y)  # noqa: E731
    parameters = initialize_parameters([X.shape[0], 20, 3, 1])
    return gradient_descent(X, Y, parameters, forward, cost, backward, 0.3, 30000, print_every=None)


def accuracies(data, parameters):
    train_X, train_Y, test_X, test_Y = data
    return accuracy(train_X, train_Y, parameters), accuracy(test_X, test_Y, parameters)


@pytest.fixture(scope="module")
def kit_runs(built_once):
    """Train, dev and test accuracy of the three runs on the kit's data."""
    built_once("kit_runs")
    data = load_2D_dataset()
    dev = load_dev_set()
    runs = {}
    for name, (kw, *_rest) in ORIGINAL.items():
        parameters = train(*data[:2], **kw)[0]
        runs[name] = (*accuracies(data, parameters), accuracy(*dev, parameters))
    return runs


@pytest.mark.slow
def test_the_unregularized_model_overfits_the_kit_data(kit_runs):
    train_acc, test_acc, dev_acc = kit_runs["baseline"]
    assert train_acc - test_acc >= 0.02
    assert train_acc - dev_acc >= 0.02


@pytest.mark.slow
@pytest.mark.parametrize("regularized", ["l2", "dropout"])
def test_each_regularizer_raises_dev_and_test_accuracy(kit_runs, regularized):
    assert kit_runs[regularized][1] - kit_runs["baseline"][1] >= 0.015
    assert kit_runs[regularized][2] - kit_runs["baseline"][2] >= 0.015


@pytest.mark.slow
def test_the_kit_data_gives_the_notebooks_figures(kit_runs):
    """The figures quoted in the notebook and the README (train, test, dev); they move only if the data do."""
    assert kit_runs == {
        "baseline": (pytest.approx(202 / 211), 0.88, 0.87),
        "l2": (pytest.approx(197 / 211), 0.915, 0.915),
        "dropout": (pytest.approx(196 / 211), 0.92, 0.905),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ORIGINAL)
def test_fidelity_to_the_assignments_figures(reference_data_path, name):
    """On the course's original data, every printed training figure is reproduced."""
    kwargs, costs, train_acc, test_acc = ORIGINAL[name]
    data = load_2D_dataset(reference_data_path)
    parameters, recorded = train(*data[:2], **kwargs)
    np.testing.assert_allclose([recorded[0], recorded[10], recorded[20]], costs, rtol=1e-9, atol=0)
    got_train, got_test = accuracies(data, parameters)
    assert f"{got_train:.12g}" == f"{train_acc:.12g}"
    assert got_test == test_acc
