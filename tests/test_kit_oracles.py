"""The corpus's oracle attacks are real: where the judge and the engine are reachable, they score.

``tests/test_grader_corpus.py`` shows that each attack earns 0 on the functions it fakes once the
sandbox hides those modules; this file shows that the 0 comes from the hiding, not from a broken
attack: run here, with the kit's files in reach, every attack passes the judge.
"""

from __future__ import annotations

import numpy as np
import pytest

from reg_utils import backward_propagation, compute_cost, forward_propagation
from testCases import fixtures
from testCases.contract import COST, L2_BACKWARD, network
from testCases.judge import judge_output
from tests.corpus import ORACLE_ATTACKS


def attack_functions(name: str) -> dict:
    """The attack's two L2 functions, defined as the notebook would (its imports in scope)."""
    scope = {"np": np, "compute_cost": compute_cost, "backward_propagation": backward_propagation}
    exec(ORACLE_ATTACKS[name], scope)
    return {COST: scope[COST], L2_BACKWARD: scope[L2_BACKWARD]}


@pytest.mark.parametrize("name", sorted(ORACLE_ATTACKS))
def test_an_attack_scores_where_its_oracle_is_reachable(name, monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # the engine's guard: the attack lifts it
    functions = attack_functions(name)
    X, Y, parameters = network(11, (3, 6, 4, 1), 9)
    A3, cache = forward_propagation(X, parameters)
    calls = [(COST, (A3, Y, parameters), lambd) for lambd in (0.0, 0.37)]
    calls += [(L2_BACKWARD, (X, Y, cache), lambd) for lambd in (0.0, 0.37)]
    calls.append((COST, fixtures.compute_cost_with_regularization_test_case(), 0.1))
    calls.append((L2_BACKWARD, fixtures.backward_propagation_with_regularization_test_case(), 0.7))
    for function, args, lambd in calls:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        output = functions[function](*args, lambd)
        finding = judge_output(function, args, {"lambd": lambd}, output)
        assert finding.ok, (name, function, lambd, finding.messages)
    # the source-reading attack announces what it found: here the judge itself
    assert ("LEAK: read the judge's source" in capsys.readouterr().out) == (name == "reads_the_judge_source")
