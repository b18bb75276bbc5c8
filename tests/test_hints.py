"""The visible checks name each catalogued mistake and never crash."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.mistakes import CATALOGUE, fingerprints_text, mistaken_cell, mistaken_function
from autograder.reference import GRADED_FUNCTIONS, define_functions, reference_solutions, solution_cells
from testCases import checks


def report(name, function, capsys) -> str:
    getattr(checks, f"{name}_test")(function)
    return capsys.readouterr().out


def test_the_catalogue_has_at_least_twelve_distinct_mistakes():
    assert len(CATALOGUE) >= 12
    assert len({m.id for m in CATALOGUE}) == len(CATALOGUE)
    assert len({m.hint for m in CATALOGUE}) == len(CATALOGUE)
    assert {m.function for m in CATALOGUE} == set(GRADED_FUNCTIONS)


def test_fingerprints_are_up_to_date(root):
    committed = (root / "testCases" / "mistakes.json").read_text(encoding="utf-8")
    assert committed == fingerprints_text(), "run `python -m autograder.tools fingerprints`"


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_the_reference_passes_with_no_hint(name, capsys):
    assert report(name, reference_solutions()[name], capsys) == "All tests passed.\n"


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: m.id)
def test_each_mistake_gets_its_own_hint(mistake, capsys):
    out = report(mistake.function, mistaken_function(mistake), capsys)
    assert "All tests passed." not in out
    assert mistake.hint in out
    others = [m.hint for m in CATALOGUE if m is not mistake and m.hint in out]
    assert others == [], f"other hints fired too: {others}"


def test_a_mistake_in_one_layer_is_located(capsys):
    """The term missing only from dW2 (not a catalogued variant) is named for dW2 alone."""
    source = solution_cells()["backward_propagation_with_regularization"].replace(" + lambd / m * W2", "")
    function = define_functions({"backward_propagation_with_regularization": source})[
        "backward_propagation_with_regularization"
    ]
    out = report("backward_propagation_with_regularization", function, capsys)
    assert "dW2 differs from the expected output (dW1, dW3, db1, db2, db3 are right)." in out
    assert "dW2: This weight gradient lacks the regularization term" in out


def broken(result):
    return lambda *args, **kwargs: result


def raises(*args, **kwargs):
    raise ZeroDivisionError("boom")


@pytest.mark.parametrize(
    ("name", "function", "expected"),
    [
        ("compute_cost_with_regularization", broken("a string"), "wrong form"),
        ("compute_cost_with_regularization", broken(None), "wrong form"),
        ("compute_cost_with_regularization", broken(np.zeros((2, 2))), "cost differs"),
        ("compute_cost_with_regularization", raises, "raised ZeroDivisionError: boom"),
        ("backward_propagation_with_regularization", broken([1, 2]), "must return the gradients dict"),
        ("backward_propagation_with_regularization", broken({"dW1": 0}), "lacks the key(s) dW2, dW3"),
        ("backward_propagation_with_regularization", broken(dict.fromkeys(
            ["dW1", "dW2", "dW3", "db1", "db2", "db3"], np.zeros((7, 7)))), "dW1, dW2, dW3, db1, db2, db3 differ"),
        ("forward_propagation_with_dropout", broken(np.ones((1, 5))), "must return the pair (A3, cache)"),
        ("forward_propagation_with_dropout", broken((np.ones((1, 5)), (1, 2))), "the cache must be the 14-tuple"),
        ("backward_propagation_with_dropout", broken("grads"), "must return the gradients dict"),
        ("backward_propagation_with_dropout", raises, "raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_wrong_types_and_shapes_get_a_sentence_not_a_crash(name, function, expected, capsys):
    out = report(name, function, capsys)
    assert out.startswith(f"{name} is not right yet.\n")
    assert expected in out


def test_a_non_function_is_explained(capsys):
    checks.compute_cost_with_regularization_test(1.78)
    assert "Pass the function itself" in capsys.readouterr().out


def test_the_check_leaves_the_students_random_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    checks.backward_propagation_with_dropout_test(reference_solutions()["backward_propagation_with_dropout"])
    assert np.array_equal(np.random.get_state()[1], before)


def test_mistaken_cells_change_only_the_students_code():
    """Every edit of the catalogue lands inside a solution region."""
    from autograder.samples import _REGION

    reference = solution_cells()
    for mistake in CATALOGUE:
        cell = mistaken_cell(mistake, reference)
        assert _REGION.sub("", cell) == _REGION.sub("", reference[mistake.function]), mistake.id
