"""The visible checks name every catalogued mistake and never crash."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.mistakes import CATALOGUE, mistaken_cell, mistaken_function
from autograder.reference import GRADED_FUNCTIONS, define_functions, reference_solutions, solution_cells
from testCases import checks
from testCases.contract import GRADED_NAMES

#: Words no student should read: internal keys and names of the kit's machinery.
INTERNAL = re.compile(
    r"depends_on_random_state|fingerprint|_test_case\b|Finding|Wrong\b|judge_|grads_of|GRADED"
)


def report(name, function, capsys) -> str:
    getattr(checks, f"{name}_test")(function)
    return capsys.readouterr().out


def test_the_whole_catalogue_is_distinct_and_covers_every_function():
    assert len(CATALOGUE) == 21
    assert len({m.id for m in CATALOGUE}) == len(CATALOGUE)
    assert {m.function for m in CATALOGUE} == set(GRADED_FUNCTIONS) == set(GRADED_NAMES)


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_the_reference_passes_with_no_hint(name, capsys):
    assert report(name, reference_solutions()[name], capsys) == "All tests passed.\n"


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: m.id)
def test_each_catalogued_mistake_is_named(mistake, capsys):
    out = report(mistake.function, mistaken_function(mistake), capsys)
    assert out.startswith(f"{mistake.function} is not right yet.\n")
    assert mistake.names in out
    lines = out.splitlines()
    assert len(lines) == len(set(lines)), "a sentence is printed twice"
    assert not INTERNAL.search(out)


def test_a_mistake_in_one_layer_is_named_for_that_layer_alone(capsys):
    source = solution_cells()["backward_propagation_with_regularization"].replace(" + lambd / m * W2", "")
    function = define_functions({"backward_propagation_with_regularization": source})[
        "backward_propagation_with_regularization"
    ]
    out = report("backward_propagation_with_regularization", function, capsys)
    assert " - dW2: it lacks the regularization term: add lambd / m * W2." in out
    assert "dW1" not in out
    assert "dW3" not in out


def broken(result):
    return lambda *args, **kwargs: result


def raises(*args, **kwargs):
    raise ZeroDivisionError("boom")


@pytest.mark.parametrize(
    ("name", "function", "expected"),
    [
        ("compute_cost_with_regularization", broken("a string"), "must be a single number, but it returned a str"),
        ("compute_cost_with_regularization", broken(None), "returned None (is the `return` line missing?)"),
        ("compute_cost_with_regularization", broken(np.zeros((2, 2))), "array of shape (2, 2)"),
        ("compute_cost_with_regularization", raises, "raised ZeroDivisionError: boom at line 2 of the function"),
        ("backward_propagation_with_regularization", broken([1, 2]), "must return the gradients dict"),
        ("backward_propagation_with_regularization", broken({"dW1": 0}), "lacks the key(s) dZ3, dW3, db3"),
        ("backward_propagation_with_regularization", broken(dict.fromkeys(
            ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"], np.zeros((7, 7)))),
         "dW1 has shape (7, 7) but W1 has shape (2, 3)"),
        ("forward_propagation_with_dropout", broken(np.ones((1, 5))), "must return the pair (A3, cache)"),
        ("forward_propagation_with_dropout", broken((np.ones((1, 5)), (1, 2))), "must be the 14-tuple"),
        ("backward_propagation_with_dropout", broken("grads"), "must return the gradients dict"),
        ("backward_propagation_with_dropout", raises, "raised ZeroDivisionError"),
    ],
)  # fmt: skip
def test_wrong_types_and_shapes_get_a_sentence_not_a_crash(name, function, expected, capsys):
    out = report(name, function, capsys)
    assert out.startswith(f"{name} is not right yet.\n")
    assert expected in out


def test_an_exception_names_the_students_line_and_its_shapes(capsys):
    source = solution_cells()["forward_propagation_with_dropout"].replace(
        "D2 = np.random.rand(A2.shape[0], A2.shape[1])", "D2 = np.random.rand(A1.shape[0], A1.shape[1])"
    )
    function = define_functions({"forward_propagation_with_dropout": source})[
        "forward_propagation_with_dropout"
    ]
    out = report("forward_propagation_with_dropout", function, capsys)
    assert "raised ValueError" in out
    assert "`A2 = A2 * D2`" in out
    assert "A2 has shape (3, 5), D2 has shape (2, 5)" in out
    assert "START CODE HERE" not in out  # the code is written: no "fill in the code"


def unanswered(name):
    """The release's stub: the solution regions emptied."""
    from autograder.samples import solution_regions

    source = solution_cells()[name]
    for region in solution_regions(source):
        source = source.replace(region, "", 1)
    source = source.replace("### BEGIN SOLUTION", "### START CODE HERE ###").replace(
        "### END SOLUTION", "### END CODE HERE ###"
    )
    return define_functions({name: source})[name]


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_an_unanswered_stub_is_told_to_write_its_code_once(name, capsys):
    out = report(name, unanswered(name), capsys)
    assert out.startswith(f"{name} is not right yet.\n")
    assert "still empty: write your code between ### START CODE HERE ### and ### END CODE HERE ###" in out
    assert len(out.splitlines()) == 2, out


def test_a_non_function_is_explained(capsys):
    checks.compute_cost_with_regularization_test(1.78)
    assert "Pass the function itself" in capsys.readouterr().out


@pytest.mark.parametrize("name", GRADED_FUNCTIONS)
def test_the_check_leaves_the_students_random_state_alone(name):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    getattr(checks, f"{name}_test")(reference_solutions()[name])
    assert np.array_equal(np.random.get_state()[1], before)


def test_mistaken_cells_change_only_the_students_code():
    """Every edit of the catalogue lands inside a solution region."""
    from autograder.samples import _REGION

    reference = solution_cells()
    for mistake in CATALOGUE:
        cell = mistaken_cell(mistake, reference)
        assert _REGION.sub("", cell) == _REGION.sub("", reference[mistake.function]), mistake.id


def test_the_judges_closeness_is_numpys_allclose_on_every_edge_value():
    """``findings.close`` skips allclose's overhead where it can; its verdicts must stay allclose's."""
    import itertools

    from testCases.findings import ATOL, RTOL, close

    values = [0.0, 1.0, -1.0, 1e-9, 2e-9, 1 + 1e-7, 1 + 3e-7, 5.0, 1e308, -1e308, np.inf, -np.inf, np.nan]
    for x, y in itertools.product(values, values):
        a, b = np.array([x, 1.0]), np.array([y, 1.0])
        with np.errstate(all="ignore"):
            expected = bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))
        assert close(a, b) == expected, (x, y)
    assert not close(np.ones(3), np.ones(4))
    assert not close("text", np.ones(1))


def test_a_wrong_activation_at_keep_prob_one_is_named_without_a_numpy_warning():
    """1 - keep_prob is 0 there: the mistake "divided by 1 - keep_prob" must be ruled out silently."""
    from testCases.contract import DROP_FORWARD, GRADED

    graded = GRADED[DROP_FORWARD]
    args, _ = graded.fixture_call()
    inputs = graded.inputs(args, {"keep_prob": 1.0})
    A3, cache = reference_solutions()[DROP_FORWARD](*args, keep_prob=1.0)
    cache = list(cache)
    cache[2] = cache[0].copy()  # A1 = Z1: the ReLU is missing
    finding = graded.judge(inputs, (A3, tuple(cache)))
    assert not finding.ok
    assert "A1" in " ".join(finding.messages)
