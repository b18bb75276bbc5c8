"""The hidden tests' calls: one forked caller per run of tests, each group still on its own.

The sandbox performs the graded functions' calls of consecutive hidden tests in one
forked process (a fork is dearer than the calls). These tests hold it to what a
process per test and function gave: a hang or a crash costs that group only, the
next test gets a fresh process, and every group starts from the checkpoint's random
state. Timeouts are the behaviour in the hang test, with a wide margin.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from autograder.grader import wire
from autograder.grader.judge import Calls, judge
from autograder.grader.sandbox import Limits
from autograder.hidden_checks import CHECKS
from autograder.reference import reference_solutions
from tests import corpus
from tests.test_grader_sandbox import run_sandbox

DROPOUT_FORWARD_RUN = [gid for gid, check in CHECKS.items() if check.function == corpus.DROP_FORWARD]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> corpus.Context:
    root = corpus.make_course(tmp_path_factory.mktemp("calls") / "course")
    return corpus.Context(corpus.release_notebook(root), root, root.parent)


def _only_with_keep_prob_one(ctx, body: str) -> dict:
    """The answered notebook whose dropout forward runs ``body`` when keep_prob is 1, else works."""
    guarded = f"if kwargs.get('keep_prob', args[2] if len(args) > 2 else None) == 1.0:\n    {body}"
    source = corpus.wrapped(ctx, corpus.DROP_FORWARD, guarded)
    return corpus.answered(ctx, {corpus.DROP_FORWARD: source})


def _failed(verdicts: dict) -> set[str]:
    return {gid for gid, verdict in verdicts.items() if verdict is not None}


def test_the_dropout_forward_tests_are_one_run_of_five():
    assert DROPOUT_FORWARD_RUN.index("dropout_forward_keep_prob_one") not in (0, len(DROPOUT_FORWARD_RUN) - 1)
    assert len(DROPOUT_FORWARD_RUN) == 5


def test_a_hang_in_the_middle_of_a_run_costs_that_test_only(ctx, tmp_path):
    """8 s: the calls of the other tests take milliseconds, so only the loop can reach it."""
    notebook = _only_with_keep_prob_one(ctx, "while True:\n        pass")
    sandbox, verdicts = run_sandbox(notebook, Limits(check_timeout=8.0), True, tmp_path)
    assert sandbox.stop is None
    assert _failed(verdicts) == {"dropout_forward_keep_prob_one"}
    assert "did not return within 8 s" in verdicts["dropout_forward_keep_prob_one"]


def test_a_crash_in_the_middle_of_a_run_costs_that_test_only(ctx, tmp_path):
    notebook = _only_with_keep_prob_one(ctx, "import os\n    os._exit(7)")
    sandbox, verdicts = run_sandbox(notebook, Limits(), True, tmp_path)
    assert sandbox.stop is None
    assert _failed(verdicts) == {"dropout_forward_keep_prob_one"}
    assert "exited with status 7" in verdicts["dropout_forward_keep_prob_one"]


def test_every_group_starts_from_the_checkpoints_random_state(ctx, tmp_path):
    """A cost that returns the next global random number: each test's first call sees the same one."""
    source = "import numpy as np\n\ndef compute_cost_with_regularization(A3, Y, parameters, lambd):\n"
    source += "    return float(np.random.rand())\n"
    notebook = corpus.answered(ctx, {corpus.COST: source})
    sandbox, _ = run_sandbox(notebook, Limits(), True, tmp_path)
    cost_tests = [gid for gid, check in CHECKS.items() if check.function == corpus.COST]
    draws = {gid: [wire.decode(out) for out in sandbox.checks[gid]] for gid in cost_tests}
    firsts = {values[0] for values in draws.values()}
    assert len(firsts) == 1, draws  # the same state at the start of every group
    assert all(len(set(values)) == len(values) > 1 for values in draws.values())  # advancing within one


def test_judging_leaves_the_calls_built_once_a_batch_unchanged():
    """The verdicts reuse the batch's calls: judging must not alter their inputs."""
    calls = Calls.build()
    before = copy.deepcopy(calls.calls), copy.deepcopy(calls.twins)
    functions = reference_solutions()
    for gid in CHECKS:
        outputs = []
        for call in calls.wire_form[gid]:
            args, kwargs = wire.decode(call["args"]), wire.decode(call["kwargs"])
            outputs.append(wire.encode(wire.to_plain(functions[call["f"]](*args, **kwargs))))
        assert judge(gid, outputs, calls) is None
        assert judge(gid, [wire.encode(wire.Fault("ValueError", "no"))] * len(outputs), calls) is not None
    for old, new in zip(before, (calls.calls, calls.twins), strict=True):
        for gid in CHECKS:
            for a, b in zip(old[gid], new[gid], strict=True):
                assert a.function == b.function
                assert _same(a.args, b.args)
                assert _same(a.kwargs, b.kwargs)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_the_size_counted_before_encoding_never_exceeds_the_encoded_size():
    from autograder.grader.harness import _least_size

    values = [
        np.ones((3, 4)),
        (np.zeros(7, dtype=np.int8), {"a": np.ones(5)}),
        [1.0, "x"],
        3.5,
        {"d": (np.ones(2),)},
    ]
    for value in values:
        encoded = len(wire.dumps({"r": wire.encode(value)}))
        assert 0 <= _least_size(value) <= encoded
    assert _least_size(np.ones(3)) == len(wire.encode(np.ones(3))["$nd"][2])  # the base64 text exactly


def test_a_return_far_over_the_limit_is_refused_with_its_size():
    from autograder.grader.harness import perform

    call = {"f": "huge", "args": wire.encode(()), "kwargs": wire.encode({})}
    fault = wire.decode(json.loads(perform(call, {"huge": lambda: (np.ones(5 * 10**6), 1.0)})))
    assert isinstance(fault, wire.Fault)
    assert fault.kind == "TooLarge"
    assert fault.message == "the returned value takes 50.9 MB; at most 4 MB is accepted"
