"""The catalogue of common mistakes, each an edit of the reference solution cell.

One entry per mistake: the graded function, the hint a student sees, and
the textual edit that turns the reference cell into the mistaken one. From
this catalogue the kit derives

- the fingerprints in ``testCases/mistakes.json`` that let the visible checks
  name a student's mistake (numbers only, never solution code);
- the sample submissions of the end-to-end grading tests.

Run ``python -m autograder.tools fingerprints`` after editing the catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .reference import define_functions, solution_cells

FINGERPRINTS = Path(__file__).resolve().parent.parent / "testCases" / "mistakes.json"

COST = "compute_cost_with_regularization"
L2_BACKWARD = "backward_propagation_with_regularization"
DROP_FORWARD = "forward_propagation_with_dropout"
DROP_BACKWARD = "backward_propagation_with_dropout"

_PENALTY = "np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3))"


@dataclass(frozen=True)
class Mistake:
    """A wrong answer students often give, and how to say so."""

    id: str
    function: str
    hint: str
    edits: tuple[tuple[str, str], ...]  # (text in the reference cell, replacement); all occurrences


CATALOGUE = (
    Mistake("l2_cost_missing_1_over_m", COST,
            "The L2 term is m times too large: formula (2) scales the sum of squares by "
            "(1/m)(lambda/2). Write lambd / (2 * m), not lambd / 2.",
            (("lambd / (2 * m) *", "lambd / 2 *"),)),
    Mistake("l2_cost_missing_half", COST,
            "The L2 term is twice too large: the factor is lambda / (2m), not lambda / m. "
            "Write lambd / (2 * m).",
            (("lambd / (2 * m) *", "lambd / m *"),)),
    Mistake("l2_cost_missing_W3", COST,
            "The L2 term leaves out a weight matrix: add the squared weights of W1, W2 AND W3.",
            ((" + np.sum(np.square(W3))", ""),)),
    Mistake("l2_cost_biases_penalised", COST,
            "The biases are not penalised: only W1, W2 and W3 enter the L2 term. "
            "Remove the b terms.",
            (("+ np.sum(np.square(W3)))",
              "+ np.sum(np.square(W3)) + sum(np.sum(np.square(parameters['b' + str(l)])) "
              "for l in (1, 2, 3)))"),)),
    Mistake("l2_cost_not_squared", COST,
            "Square each weight before summing: np.sum(np.square(W1)), not np.sum(W1).",
            ((_PENALTY, "np.sum(W1) + np.sum(W2) + np.sum(W3)"),)),
    Mistake("l2_cost_norm_not_squared", COST,
            "np.linalg.norm(W) is the square ROOT of the sum of squares; formula (2) needs the "
            "sum of squares itself: np.sum(np.square(W)).",
            ((_PENALTY, "np.linalg.norm(W1) + np.linalg.norm(W2) + np.linalg.norm(W3)"),)),
    Mistake("l2_cost_array_not_number", COST,
            "The cost must be a single number, but yours is an array of shape (1, 1). "
            "Drop keepdims=True (or axis=...) from the sums of squares.",
            (("np.sum(np.square(W1))", "np.sum(np.square(W1), keepdims=True)"),)),
    Mistake("l2_grad_missing_1_over_m", L2_BACKWARD,
            "The penalty's gradient is (lambda / m) * W: divide lambd by m (lambd / m * W).",
            (("lambd / m * W", "lambd * W"),)),
    Mistake("l2_grad_extra_half", L2_BACKWARD,
            "The gradient of (lambda / 2m) * W^2 is (lambda / m) * W: the 2 of the square "
            "cancels the 1/2. Write lambd / m * W.",
            (("lambd / m * W", "lambd / (2 * m) * W"),)),
    Mistake("l2_grad_wrong_sign", L2_BACKWARD,
            "The penalty's gradient is ADDED: dW = 1/m * dZ . A_prev.T + lambd / m * W.",
            (("+ lambd / m * W", "- lambd / m * W"),)),
    Mistake("l2_grad_missing_term", L2_BACKWARD,
            "This weight gradient lacks the regularization term: every dW gets + lambd / m * W "
            "(the biases' gradients do not).",
            ((" + lambd / m * W1", ""), (" + lambd / m * W2", ""), (" + lambd / m * W3", ""))),
    Mistake("dropout_fwd_no_scaling", DROP_FORWARD,
            "Divide the kept activations by keep_prob (inverted dropout), so that their "
            "expected value stays what it was without dropout.",
            (("    A1 = A1 / keep_prob\n", ""), ("    A2 = A2 / keep_prob\n", ""))),
    Mistake("dropout_fwd_times_keep_prob", DROP_FORWARD,
            "Divide by keep_prob, don't multiply: the kept units must be scaled UP to make "
            "up for the dropped ones.",
            (("/ keep_prob", "* keep_prob"),)),
    Mistake("dropout_fwd_inverted_mask", DROP_FORWARD,
            "Your mask keeps a unit when its random number is ABOVE keep_prob, so it keeps "
            "1 - keep_prob of the units. Keep it when the number is below: D1 = D1 < keep_prob.",
            (("< keep_prob", "> keep_prob"),)),
    Mistake("dropout_fwd_one_mask_for_all_examples", DROP_FORWARD,
            "The mask must have the shape of the activations, one entry per unit AND per "
            "example: np.random.rand(A1.shape[0], A1.shape[1]). A column mask drops the same "
            "units for every example.",
            (("A1.shape[0], A1.shape[1])", "A1.shape[0], 1)"),
             ("A2.shape[0], A2.shape[1])", "A2.shape[0], 1)"))),
    Mistake("dropout_fwd_layer2_not_dropped", DROP_FORWARD,
            "Hidden layer 2 is not dropped out: after drawing D2, apply it to A2 and divide "
            "by keep_prob, exactly as for layer 1.",
            (("    A2 = A2 * D2\n    A2 = A2 / keep_prob\n", ""),)),
    Mistake("dropout_fwd_mask_shaped_like_input", DROP_FORWARD,
            "D1 must have the shape of A1, not of X: dropout applies to the hidden layers, "
            "never to the input layer.",
            (("A1.shape[0], A1.shape[1])", "X.shape[0], X.shape[1])"),)),
    Mistake("dropout_bwd_no_scaling", DROP_BACKWARD,
            "After masking, divide dA1 and dA2 by keep_prob too: the forward pass divided "
            "A1 and A2 by keep_prob, so their gradients carry the same factor.",
            (("    dA2 = dA2 / keep_prob\n", ""), ("    dA1 = dA1 / keep_prob\n", ""))),
    Mistake("dropout_bwd_times_keep_prob", DROP_BACKWARD,
            "Divide the masked gradients by keep_prob, don't multiply: the forward pass "
            "divided, so the gradient divides too.",
            (("/ keep_prob", "* keep_prob"),)),
    Mistake("dropout_bwd_new_masks", DROP_BACKWARD,
            "Reuse the masks D1 and D2 from the cache. New random masks shut down other "
            "units than the forward pass did, so the gradients are wrong (and change from "
            "call to call).",
            (("dA2 * D2", "dA2 * (np.random.rand(*dA2.shape) < keep_prob)"),
             ("dA1 * D1", "dA1 * (np.random.rand(*dA1.shape) < keep_prob)"))),
    Mistake("dropout_bwd_layer1_not_masked", DROP_BACKWARD,
            "dA1 is not masked: the units of layer 1 dropped in the forward pass must get no "
            "gradient. Multiply dA1 by D1, then divide by keep_prob.",
            (("    dA1 = dA1 * D1\n    dA1 = dA1 / keep_prob\n", ""),)),
)  # fmt: skip

BY_ID = {mistake.id: mistake for mistake in CATALOGUE}


def mistaken_cell(mistake: Mistake, cells: dict[str, str] | None = None) -> str:
    """The reference solution cell of ``mistake.function`` with the mistake's edits applied."""
    source = (cells or solution_cells())[mistake.function]
    for old, new in mistake.edits:
        if old not in source:
            raise LookupError(f"{mistake.id}: {old!r} is not in the reference cell any more")
        source = source.replace(old, new)
    return source


def mistaken_function(mistake: Mistake):
    """The graded function as a student who made ``mistake`` would have written it."""
    return define_functions({mistake.function: mistaken_cell(mistake)})[mistake.function]


def fingerprint_outputs(function_name: str, function) -> dict:
    """What the visible check compares: the function's outputs on the assignment's fixture."""
    from testCases.checks import observe

    return observe(function_name, function)


def build_fingerprints() -> dict:
    """Expected outputs and every mistake's outputs on the fixtures, as JSON-ready data."""
    from .reference import reference_solutions

    data = {}
    for name, function in reference_solutions().items():
        data[name] = {"expected": fingerprint_outputs(name, function), "mistakes": []}
    for mistake in CATALOGUE:
        data[mistake.function]["mistakes"].append(
            {"id": mistake.id, "hint": mistake.hint,
             "observed": fingerprint_outputs(mistake.function, mistaken_function(mistake))}
        )  # fmt: skip
    return data


def fingerprints_text() -> str:
    """The content of testCases/mistakes.json, byte for byte."""
    return json.dumps(build_fingerprints(), indent=1, sort_keys=True) + "\n"
