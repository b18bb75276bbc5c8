"""The catalogue of common mistakes, each an edit of the reference solution cell.

One entry per mistake: the graded function, the hint a student sees, and
the textual edit that turns the reference cell into the mistaken one. The judge
(``testCases.judge``) diagnoses mistakes from properties of what a function
computed, not from this list; the catalogue is test material: each entry's
``names`` is a phrase the judge's message must contain, and the entries
become the sample submissions of the end-to-end grading tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from testCases.contract import COST, DROP_BACKWARD, DROP_FORWARD, L2_BACKWARD

from .reference import define_functions, solution_cells

_PENALTY = "np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3))"


@dataclass(frozen=True)
class Mistake:
    """A wrong answer students often give, and a phrase that a message naming it contains."""

    id: str
    function: str
    names: str
    edits: tuple[tuple[str, str], ...]  # (text in the reference cell, replacement); all occurrences


CATALOGUE = (
    Mistake("l2_cost_missing_1_over_m", COST,
            "m times too large",
            (("lambd / (2 * m) *", "lambd / 2 *"),)),
    Mistake("l2_cost_missing_half", COST,
            "twice too large",
            (("lambd / (2 * m) *", "lambd / m *"),)),
    Mistake("l2_cost_missing_W3", COST,
            "leaves out W3",
            ((" + np.sum(np.square(W3))", ""),)),
    Mistake("l2_cost_biases_penalised", COST,
            "includes the biases",
            (("+ np.sum(np.square(W3)))",
              "+ np.sum(np.square(W3)) + sum(np.sum(np.square(parameters['b' + str(l)])) "
              "for l in (1, 2, 3)))"),)),
    Mistake("l2_cost_not_squared", COST,
            "not squared",
            ((_PENALTY, "np.sum(W1) + np.sum(W2) + np.sum(W3)"),)),
    Mistake("l2_cost_norm_not_squared", COST,
            "square ROOT",
            ((_PENALTY, "np.linalg.norm(W1) + np.linalg.norm(W2) + np.linalg.norm(W3)"),)),
    Mistake("l2_cost_array_not_number", COST,
            "single number",
            (("np.sum(np.square(W1))", "np.sum(np.square(W1), keepdims=True)"),)),
    Mistake("l2_grad_missing_1_over_m", L2_BACKWARD,
            "lacks 1/m",
            (("lambd / m * W", "lambd * W"),)),
    Mistake("l2_grad_extra_half", L2_BACKWARD,
            "extra 1/2",
            (("lambd / m * W", "lambd / (2 * m) * W"),)),
    Mistake("l2_grad_wrong_sign", L2_BACKWARD,
            "wrong sign",
            (("+ lambd / m * W", "- lambd / m * W"),)),
    Mistake("l2_grad_missing_term", L2_BACKWARD,
            "lacks the regularization term",
            ((" + lambd / m * W1", ""), (" + lambd / m * W2", ""), (" + lambd / m * W3", ""))),
    Mistake("dropout_fwd_no_scaling", DROP_FORWARD,
            "A1 is masked but not divided by keep_prob",
            (("    A1 = A1 / keep_prob\n", ""), ("    A2 = A2 / keep_prob\n", ""))),
    Mistake("dropout_fwd_times_keep_prob", DROP_FORWARD,
            "A1 is multiplied by keep_prob",
            (("/ keep_prob", "* keep_prob"),)),
    Mistake("dropout_fwd_inverted_mask", DROP_FORWARD,
            "ABOVE keep_prob",
            (("< keep_prob", "> keep_prob"),)),
    Mistake("dropout_fwd_one_mask_for_all_examples", DROP_FORWARD,
            "one mask for all examples",
            (("A1.shape[0], A1.shape[1])", "A1.shape[0], 1)"),
             ("A2.shape[0], A2.shape[1])", "A2.shape[0], 1)"))),
    Mistake("dropout_fwd_layer2_not_dropped", DROP_FORWARD,
            "A2 is neither masked nor scaled",
            (("    A2 = A2 * D2\n    A2 = A2 / keep_prob\n", ""),)),
    Mistake("dropout_fwd_mask_shaped_like_input", DROP_FORWARD,
            "D1 has shape (3, 5)",
            (("A1.shape[0], A1.shape[1])", "X.shape[0], X.shape[1])"),)),
    Mistake("dropout_bwd_no_scaling", DROP_BACKWARD,
            "dA2 is masked but not divided by keep_prob",
            (("    dA2 = dA2 / keep_prob\n", ""), ("    dA1 = dA1 / keep_prob\n", ""))),
    Mistake("dropout_bwd_times_keep_prob", DROP_BACKWARD,
            "dA2 is multiplied by keep_prob",
            (("/ keep_prob", "* keep_prob"),)),
    Mistake("dropout_bwd_new_masks", DROP_BACKWARD,
            "change from call to call",
            (("dA2 * D2", "dA2 * (np.random.rand(*dA2.shape) < keep_prob)"),
             ("dA1 * D1", "dA1 * (np.random.rand(*dA1.shape) < keep_prob)"))),
    Mistake("dropout_bwd_layer1_not_masked", DROP_BACKWARD,
            "dA1 is neither masked nor scaled",
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
