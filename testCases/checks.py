"""Checks that tell a student whether a graded function is right, and if not, why.

Each ``*_test(function)`` runs the function on the assignment's fixture,
compares what it returns with the expected outputs, and when they differ
looks the outputs up among the fingerprints of common mistakes
(``mistakes.json``, numbers only: no solution code ships with the kit).
A check never raises: whatever the function does, the student reads a
sentence, either ``All tests passed.`` or what is wrong and how to fix it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np

from .fixtures import (
    backward_propagation_with_dropout_test_case,
    backward_propagation_with_regularization_test_case,
    compute_cost_with_regularization_test_case,
    forward_propagation_with_dropout_test_case,
)

RTOL, ATOL = 1e-7, 1e-9


def _listed(value):
    """JSON-ready copy of a number or array (booleans become 0/1); TypeError for anything else."""
    if value is None:
        raise TypeError("None")
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 and not isinstance(value, np.ndarray) else array.tolist()


def _call(function, *args, **kwargs):
    """Call ``function``; return (result, None) or (None, error record)."""
    try:
        return function(*args, **kwargs), None
    except Exception as exc:
        return None, {"error": [type(exc).__name__, str(exc)[:200]]}


def _problem(text: str) -> dict:
    return {"problem": text}


def _returned(value) -> str:
    if value is None:
        return "it returned None (is a `return` statement missing?)"
    return f"it returned a {type(value).__name__}"


def _observe_cost(function) -> dict:
    A3, Y, parameters = compute_cost_with_regularization_test_case()
    cost, error = _call(function, A3, Y, parameters, lambd=0.1)
    if error:
        return error
    try:
        return {"cost": _listed(cost)}
    except (TypeError, ValueError):
        return _problem(f"{_returned(cost)}; the cost must be a number")


def _grads(result, keys) -> dict:
    if not isinstance(result, dict):
        return _problem(f'{_returned(result)}; it must return the gradients dict {{"dZ3": ..., ...}}')
    missing = [key for key in keys if key not in result]
    if missing:
        return _problem(f"the returned dict lacks the key(s) {', '.join(missing)}")
    try:
        return {key: _listed(result[key]) for key in keys}
    except (TypeError, ValueError):
        return _problem("the gradients must be NumPy arrays of numbers")


def _observe_l2_backward(function) -> dict:
    X, Y, cache_ = backward_propagation_with_regularization_test_case()
    result, error = _call(function, X, Y, cache_, lambd=0.7)
    return error or _grads(result, ("dW1", "dW2", "dW3", "db1", "db2", "db3"))


def _observe_dropout_forward(function) -> dict:
    X, parameters = forward_propagation_with_dropout_test_case()
    result, error = _call(function, X, parameters, keep_prob=0.7)
    if error:
        return error
    if not (isinstance(result, tuple) and len(result) == 2):
        return _problem("it must return the pair (A3, cache)")
    A3, cache_ = result
    if not (isinstance(cache_, tuple) and len(cache_) == 14):
        return _problem(
            "the cache must be the 14-tuple (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)"
        )
    try:
        return {"A3": _listed(A3), "D1": _listed(cache_[1]), "A1": _listed(cache_[2]),
                "D2": _listed(cache_[6]), "A2": _listed(cache_[7])}  # fmt: skip
    except (TypeError, ValueError):
        return _problem("A3 and the cache entries must be NumPy arrays of numbers")


def _observe_dropout_backward(function) -> dict:
    X, Y, cache_ = backward_propagation_with_dropout_test_case()
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        first, error = _call(function, X, Y, cache_, keep_prob=0.8)
        np.random.seed(1)
        second, _ = _call(function, X, Y, cache_, keep_prob=0.8)
    finally:
        np.random.set_state(saved)
    if error:
        return error
    observed = _grads(first, ("dA2", "dA1", "dW1", "dW2", "dW3"))
    if "problem" not in observed and isinstance(second, dict) and "dA1" in second:
        same = np.array_equal(np.asarray(first["dA1"]), np.asarray(second["dA1"]))
        observed["depends_on_random_state"] = 0.0 if same else 1.0
    return observed


_OBSERVERS = {
    "compute_cost_with_regularization": _observe_cost,
    "backward_propagation_with_regularization": _observe_l2_backward,
    "forward_propagation_with_dropout": _observe_dropout_forward,
    "backward_propagation_with_dropout": _observe_dropout_backward,
}


def observe(function_name: str, function) -> dict:
    """What a graded function returns on its fixture, as JSON-ready data (or the error it raised)."""
    return _OBSERVERS[function_name](function)


@cache
def _fingerprints() -> dict:
    text = resources.files("testCases").joinpath("mistakes.json").read_text(encoding="utf-8")
    return json.loads(text)


def _same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list) and a and isinstance(a[0], str):
        return a == b  # error records: [type, message]
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)


def _matches(observed: dict, reference: dict, keys=None) -> bool:
    keys = reference.keys() if keys is None else keys
    return all(key in observed and key in reference and _same(observed[key], reference[key])
               for key in keys)  # fmt: skip


def diagnose(function_name: str, observed: dict) -> list[str]:
    """Sentences for the student: empty when the outputs are right."""
    entry = _fingerprints()[function_name]
    expected, mistakes = entry["expected"], entry["mistakes"]
    if _matches(observed, expected) and observed.keys() == expected.keys():
        return []
    exact = [m["hint"] for m in mistakes if _matches(observed, m["observed"])
             and observed.keys() == m["observed"].keys()]  # fmt: skip
    if exact:
        return exact[:1]
    if "error" in observed:
        kind, message = observed["error"]
        return [
            f"Your function raised {kind}: {message}. Fill in the code between "
            "### START CODE HERE ### and ### END CODE HERE ###, then rerun its cell."
        ]
    if "problem" in observed:
        return [f"Your function's output has the wrong form: {observed['problem']}."]
    wrong = [key for key in expected if not _matches(observed, expected, (key,))]
    right = [key for key in expected if key not in wrong]
    sentences = []
    for key in wrong:  # in the order the values are computed
        for m in mistakes:
            if key in m["observed"] and _matches(observed, m["observed"], (key,)):
                hint = f"{key}: {m['hint']}"
                if hint not in sentences:
                    sentences.append(hint)
                break
    summary = f"{', '.join(wrong)} differ{'s' if len(wrong) == 1 else ''} from the expected output"
    summary += f" ({', '.join(right)} {'is' if len(right) == 1 else 'are'} right)." if right else "."
    if not sentences:
        shown = wrong[0]
        sentences.append(
            f"{shown} = {np.round(np.asarray(observed[shown]), 8).tolist()}, "
            f"expected {np.round(np.asarray(expected[shown]), 8).tolist()}. "
            "Compare your code with the formulas above the exercise."
        )
    return [summary, *sentences]


def _report(function_name: str, function) -> None:
    if not callable(function):
        print(f"Pass the function itself, e.g. {function_name}_test({function_name}).")
        return
    sentences = diagnose(function_name, observe(function_name, function))
    if not sentences:
        print("All tests passed.")
        return
    print(f"{function_name} is not right yet.")
    for sentence in sentences:
        print(" - " + sentence)


def compute_cost_with_regularization_test(target) -> None:
    """Check ``compute_cost_with_regularization`` on the fixture; print the verdict and hints."""
    return _report("compute_cost_with_regularization", target)


def backward_propagation_with_regularization_test(target) -> None:
    """Check ``backward_propagation_with_regularization``; print the verdict and hints."""
    return _report("backward_propagation_with_regularization", target)


def forward_propagation_with_dropout_test(target) -> None:
    """Check ``forward_propagation_with_dropout``; print the verdict and hints."""
    return _report("forward_propagation_with_dropout", target)


def backward_propagation_with_dropout_test(target) -> None:
    """Check ``backward_propagation_with_dropout``; print the verdict and hints."""
    return _report("backward_propagation_with_dropout", target)
