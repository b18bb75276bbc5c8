"""The judge on answers nobody catalogued: each mistake is named, each correct variant passes.

The corpus (``judge_corpus.py``) holds 62 mistakes beyond ``autograder.mistakes`` and 14 correct
answers written in other ways, 5 of them dropout on another random stream.
"""

from __future__ import annotations

import json

import pytest
from judge_corpus import MISTAKES, VARIANTS, defined, score
from test_hints import INTERNAL

from autograder.hidden_checks import CHECKS, run_check, verdict
from autograder.reference import GRADED_FUNCTIONS, reference_solutions
from testCases.checks import report


def test_the_corpus_is_as_large_as_promised():
    assert len(MISTAKES) >= 40
    assert len({m.id for m in MISTAKES}) == len(MISTAKES)
    assert len(VARIANTS) >= 10
    assert sum(v.other_stream for v in VARIANTS) >= 4
    assert {m.function for m in MISTAKES} == set(GRADED_FUNCTIONS)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_the_visible_check_names_each_mistake(mistake):
    out = report(mistake.function, defined(mistake))
    assert out.startswith(f"{mistake.function} is not right yet.\n"), out
    assert mistake.names in out, out
    lines = out.splitlines()
    assert len(lines) == len(set(lines)), "a sentence is printed twice"
    assert not INTERNAL.search(out), out


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_the_visible_check_passes_each_correct_variant(variant):
    out = report(variant.function, defined(variant))
    assert out.startswith("All tests passed."), out
    if variant.other_stream:
        assert "not the random draws the expected output was computed with" in out
        assert "np.random.rand(A1.shape[0], A1.shape[1])" in out
        assert "no points" in out
    else:
        assert out == "All tests passed.", out


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_every_correct_variant_earns_full_marks(variant):
    functions = dict(reference_solutions(), **{variant.function: defined(variant)})
    assert score(functions) == dict.fromkeys(GRADED_FUNCTIONS, 10)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.other_stream], ids=lambda v: v.id)
def test_another_random_stream_is_explained_by_the_hidden_test_too(variant, capsys):
    functions = dict(reference_solutions(), **{variant.function: defined(variant)})
    run_check("dropout_forward_fixture", functions)
    assert "The hidden tests accept any valid masks" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_every_mistake_loses_points_on_its_own_function_only(mistake):
    functions = dict(reference_solutions(), **{mistake.function: defined(mistake)})
    points = score(functions)
    assert points[mistake.function] < 10
    assert all(points[name] == 10 for name in GRADED_FUNCTIONS if name != mistake.function)


def perform_on_the_wire(call: dict, functions: dict):
    """The sandbox's output of one call, as the grader receives it (a JSON tree)."""
    from autograder.grader.harness import perform

    return json.loads(perform(call, functions))


@pytest.mark.parametrize("case", [*VARIANTS, *MISTAKES], ids=lambda c: c.id)
def test_the_graders_twins_never_change_the_verdict_of_code_that_computes(case):
    """Through the hardened grader's wire and twins: each check's verdict is the stock one."""
    from autograder.grader.judge import Calls, judge, plain_output

    functions = dict(reference_solutions(), **{case.function: defined(case)})
    calls = Calls.build()
    for gid, check in CHECKS.items():
        if check.function != case.function:
            continue
        raw = [perform_on_the_wire(call, functions) for call in calls.wire_form[gid]]
        stock = verdict(check, [plain_output(tree) for tree in raw[: len(calls.calls[gid])]])
        assert (judge(gid, raw, calls) is None) == (stock is None), gid
        assert stock is None or case not in VARIANTS, (gid, stock)  # a right answer passes every test


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.other_stream], ids=lambda v: v.id)
def test_the_hardened_grader_has_a_note_for_another_random_stream(variant):
    from autograder.grader.judge import Calls, judge, remark

    functions = dict(reference_solutions(), **{variant.function: defined(variant)})
    calls = Calls.build()
    raw = [perform_on_the_wire(call, functions) for call in calls.wire_form["dropout_forward_fixture"]]
    assert judge("dropout_forward_fixture", raw, calls) is None
    assert "The hidden tests accept any valid masks" in remark("dropout_forward_fixture", raw, calls)
    reference = dict(reference_solutions())
    raw = [perform_on_the_wire(call, reference) for call in calls.wire_form["dropout_forward_fixture"]]
    assert remark("dropout_forward_fixture", raw, calls) == ""
