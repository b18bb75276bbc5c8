"""Answers written as students write them, beyond the catalogue: for the judge's tests.

Each case is an edit of the reference solution cells (like ``autograder.mistakes``):
a mistake carries the phrase that a message naming it must contain; a correct variant
carries ``None`` and says whether its dropout draws other random numbers than the
assignment's (then it must pass with a note about the random stream).
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.hidden_checks import CHECKS, perform, verdict
from autograder.mistakes import Mistake, mistaken_cell
from autograder.reference import GRADED_FUNCTIONS, define_functions, solution_cells

COST = "compute_cost_with_regularization"
L2_BACKWARD = "backward_propagation_with_regularization"
DROP_FORWARD = "forward_propagation_with_dropout"
DROP_BACKWARD = "backward_propagation_with_dropout"

_FACTOR = "lambd / (2 * m) *"
_SUM = "(np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))"


def _all_W(template: str) -> tuple[tuple[str, str], ...]:
    """Edit the penalty of all three weight gradients: ``template`` uses {l} for the layer."""
    return tuple((f"lambd / m * W{layer}", template.format(l=layer)) for layer in (1, 2, 3))


MISTAKES = (
    # -------------------------------------------------------------- the cost
    Mistake("cost_m_from_rows", COST, "Y.shape[1]", (("lambd / (2 * m)", "lambd / (2 * Y.shape[0])"),)),
    Mistake("cost_integer_division", COST, "integer division", ((_FACTOR, "lambd // (2 * m) *"),)),
    Mistake("cost_integer_division_m", COST, "integer division", ((_FACTOR, "(lambd // m) / 2 *"),)),
    Mistake("cost_m_squared", COST, "divides by m twice", ((_FACTOR, "lambd / (2 * m * m) *"),)),
    Mistake("cost_times_two", COST, "2 * lambd / m", ((_FACTOR, "lambd * 2 / m *"),)),
    Mistake("cost_no_lambd", COST, "lacks lambd", ((_FACTOR, "1 / (2 * m) *"),)),
    Mistake("cost_lambd_squared", COST, "lambd squared", ((_FACTOR, "lambd ** 2 / (2 * m) *"),)),
    Mistake("cost_subtracted", COST, "wrong sign", ((_FACTOR, "-lambd / (2 * m) *"),)),
    Mistake("cost_missing_W1", COST, "leaves out W1", (("np.sum(np.square(W1)) + ", ""),)),
    Mistake("cost_missing_W2", COST, "leaves out W2", ((" + np.sum(np.square(W2))", ""),)),
    Mistake("cost_only_W3", COST, "only W3", ((_SUM, "np.sum(np.square(W3))"),)),
    Mistake("cost_square_of_sums", COST, "squares the sum",
            ((_SUM, "(np.sum(W1) ** 2 + np.sum(W2) ** 2 + np.sum(W3) ** 2)"),)),
    Mistake("cost_absolute_values", COST, "L1",
            ((_SUM, "(np.sum(np.abs(W1)) + np.sum(np.abs(W2)) + np.sum(np.abs(W3)))"),)),
    Mistake("cost_dot_products", COST, "products of different weights",
            ((_SUM, "(np.sum(np.dot(W1, W1.T)) + np.sum(np.dot(W2, W2.T)) + np.sum(np.dot(W3, W3.T)))"),)),
    Mistake("cost_trailing_comma", COST, "tuple", ((_SUM + "\n", _SUM + ",\n"),)),
    Mistake("cost_all_keepdims", COST, "single number",
            ((_SUM, "(np.square(W1).sum(keepdims=True) + np.square(W2).sum(keepdims=True) "
                    "+ np.square(W3).sum(keepdims=True))"),)),
    Mistake("cost_over_m_squared", COST, "lambd / m**2", ((_FACTOR, "lambd / m ** 2 *"),)),
    Mistake("cost_halved_twice", COST, "halved twice", ((_FACTOR, "lambd / 4 / m *"),)),
    Mistake("cost_times_m", COST, "multiplies by m", ((_FACTOR, "lambd * m / 2 *"),)),
    Mistake("cost_norms_added_then_squared", COST, "before squaring",
            ((_SUM, "(np.linalg.norm(W1) + np.linalg.norm(W2) + np.linalg.norm(W3)) ** 2"),)),
    Mistake("cost_only_the_penalty", COST, "only the L2 term",
            (("cost = cross_entropy_cost + L2_regularization_cost", "cost = L2_regularization_cost"),)),
    Mistake("cost_biases_and_no_m", COST, "biases",
            ((_FACTOR, "lambd / 2 *"),
             ("+ np.sum(np.square(W3)))", "+ np.sum(np.square(W3)) + np.sum(np.square(parameters['b1'])) "
                                          "+ np.sum(np.square(parameters['b2'])) + np.sum(np.square(parameters['b3'])))"))),
    # ------------------------------------------------------ the L2 backward pass
    Mistake("l2_missing_in_dW1", L2_BACKWARD, "dW1: it lacks the regularization term", ((" + lambd / m * W1", ""),)),
    Mistake("l2_sign_in_dW3", L2_BACKWARD, "dW3: the penalty has the wrong sign",
            (("+ lambd / m * W3", "- lambd / m * W3"),)),
    Mistake("l2_sign_of_W", L2_BACKWARD, "sign(W", _all_W("lambd / m * np.sign(W{l})")),
    Mistake("l2_sum_of_W", L2_BACKWARD, "one number", _all_W("lambd / m * np.sum(W{l})")),
    Mistake("l2_W_squared", L2_BACKWARD, "squared", _all_W("lambd / m * W{l} ** 2")),
    Mistake("l2_m_from_features", L2_BACKWARD, "X.shape[0]", _all_W("lambd / X.shape[0] * W{l}")),
    Mistake("l2_m_squared", L2_BACKWARD, "divides by m twice", _all_W("lambd / m / m * W{l}")),
    Mistake("l2_twice", L2_BACKWARD, "twice too large", _all_W("2 * lambd / m * W{l}")),
    Mistake("l2_data_term_without_1_over_m", L2_BACKWARD, "data term",
            (("dW3 = 1.0 / m * np.dot(dZ3, A2.T)", "dW3 = np.dot(dZ3, A2.T)"),)),
    Mistake("l2_penalty_on_db3", L2_BACKWARD, "biases are not regularised",
            (("db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)",
              "db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True) + lambd / m * b3"),)),
    Mistake("l2_penalty_on_dA2", L2_BACKWARD, "belongs in dW only",
            (("dA2 = np.dot(W3.T, dZ3)", "dA2 = np.dot(W3.T, dZ3) + lambd / m * W3.T"),)),
    Mistake("l2_no_lambd", L2_BACKWARD, "lacks lambd", _all_W("1 / m * W{l}")),
    Mistake("l2_half_in_dW2", L2_BACKWARD, "dW2: the penalty has an extra 1/2",
            (("lambd / m * W2", "lambd / (2 * m) * W2"),)),
    Mistake("l2_wrong_activation", L2_BACKWARD, "A2 has shape",
            (("np.dot(dZ2, A1.T) + lambd", "np.dot(dZ2, A2.T) + lambd"),)),
    # ------------------------------------------------------- dropout forward
    Mistake("fwd_fixed_half", DROP_FORWARD, "fixed 0.5", (("< keep_prob", "< 0.5"),)),
    Mistake("fwd_fixed_seven_tenths", DROP_FORWARD, "keep_prob = 0.25 keeps 25%", (("< keep_prob", "< 0.7"),)),
    Mistake("fwd_not_thresholded", DROP_FORWARD, "random numbers themselves",
            (("    D1 = D1 < keep_prob\n", ""), ("    D2 = D2 < keep_prob\n", ""))),
    Mistake("fwd_divided_twice", DROP_FORWARD, "twice",
            (("    A1 = A1 / keep_prob\n", "    A1 = A1 / keep_prob\n    A1 = A1 / keep_prob\n"),)),
    Mistake("fwd_one_minus_keep_prob", DROP_FORWARD, "1 - keep_prob", (("/ keep_prob", "/ (1 - keep_prob)"),)),
    Mistake("fwd_opposite_mask", DROP_FORWARD, "opposite", (("A1 = A1 * D1", "A1 = A1 * ~D1"),)),
    Mistake("fwd_reseeded_before_D2", DROP_FORWARD, "repeats the random numbers",
            (("    D2 = np.random.rand(", "    np.random.seed(1)\n    D2 = np.random.rand("),)),
    Mistake("fwd_output_dropped", DROP_FORWARD, "output layer",
            (("    A3 = sigmoid(Z3)\n",
              "    A3 = sigmoid(Z3)\n    A3 = A3 * (np.random.rand(*A3.shape) < keep_prob) / keep_prob\n"),)),
    Mistake("fwd_no_relu", DROP_FORWARD, "no ReLU", (("A1 = A1 * D1", "A1 = Z1 * D1"),)),
    Mistake("fwd_mask_per_example", DROP_FORWARD, "one entry per example",
            (("A1.shape[0], A1.shape[1])", "1, A1.shape[1])"),)),
    Mistake("fwd_mask_transposed_shape", DROP_FORWARD, "D1 has shape (5, 2)",
            (("A1.shape[0], A1.shape[1])", "A1.shape[1], A1.shape[0])"),)),
    Mistake("fwd_D2_shaped_like_A1", DROP_FORWARD, "D2 has shape (2, 5)",
            (("A2.shape[0], A2.shape[1])", "A1.shape[0], A1.shape[1])"),)),
    Mistake("fwd_layer1_not_scaled", DROP_FORWARD, "A1 is masked but not divided",
            (("    A1 = A1 / keep_prob\n", ""),)),
    Mistake("fwd_mask_not_applied", DROP_FORWARD, "not applied", (("    A1 = A1 * D1\n", ""),)),
    Mistake("fwd_threshold_inline", DROP_FORWARD, "random numbers themselves",
            (("    D1 = D1 < keep_prob\n    A1 = A1 * D1\n", "    A1 = A1 * (D1 < keep_prob)\n"),)),
    Mistake("fwd_normal_numbers", DROP_FORWARD, "keep_prob = 0.25 keeps 25%",
            (("np.random.rand(", "np.random.randn("),)),
    # ------------------------------------------------------ dropout backward
    Mistake("bwd_layer2_not_scaled", DROP_BACKWARD, "dA2 is masked but not divided",
            (("    dA2 = dA2 / keep_prob\n", ""),)),
    Mistake("bwd_not_masked", DROP_BACKWARD, "not masked",
            (("    dA2 = dA2 * D2\n", ""), ("    dA1 = dA1 * D1\n", ""))),
    Mistake("bwd_opposite_mask", DROP_BACKWARD, "opposite", (("dA2 * D2", "dA2 * ~D2"),)),
    Mistake("bwd_divided_twice", DROP_BACKWARD, "twice",
            (("    dA1 = dA1 / keep_prob\n", "    dA1 = dA1 / keep_prob / keep_prob\n"),)),
    Mistake("bwd_one_minus_keep_prob", DROP_BACKWARD, "1 - keep_prob", (("/ keep_prob", "/ (1 - keep_prob)"),)),
    Mistake("bwd_masked_dZ2", DROP_BACKWARD, "to dA2 itself",
            (("    dA2 = dA2 * D2\n    dA2 = dA2 / keep_prob\n", ""),
             ("dZ2 = dA2 * (A2 > 0)", "dZ2 = dA2 * D2 / keep_prob * (A2 > 0)"))),
    Mistake("bwd_D1_for_layer2", DROP_BACKWARD, "D1 has shape", (("dA2 * D2", "dA2 * D1"),)),
    Mistake("bwd_new_mask_layer1", DROP_BACKWARD, "change from call to call",
            (("dA1 * D1", "dA1 * (np.random.rand(*dA1.shape) < keep_prob)"),)),
    Mistake("bwd_relu_mask_for_D2", DROP_BACKWARD, "other than the cached D2", (("dA2 * D2", "dA2 * (A2 > 0)"),)),
    Mistake("bwd_layer1_times_keep_prob", DROP_BACKWARD, "dA1 is multiplied by keep_prob",
            (("dA1 = dA1 / keep_prob", "dA1 = dA1 * keep_prob"),)),
)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """A correct answer written another way; ``other_stream``: its dropout masks are other draws."""

    id: str
    function: str
    edits: tuple[tuple[str, str], ...]
    other_stream: bool = False


VARIANTS = (
    Variant("cost_times_itself", COST, ((_SUM, "(np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))"),)),
    Variant("cost_norm_squared", COST,
            ((_SUM, "(np.linalg.norm(W1) ** 2 + np.linalg.norm(W2) ** 2 + np.linalg.norm(W3) ** 2)"),)),
    Variant("cost_generator", COST,
            ((_FACTOR + " " + _SUM, "lambd * 0.5 / m * sum(np.sum(np.square(parameters['W%d' % l])) "
                                    "for l in (1, 2, 3))"),)),
    Variant("l2_reordered", L2_BACKWARD, _all_W("lambd * W{l} / m")),
    Variant("fwd_mask_before_relu", DROP_FORWARD,
            (("    A1 = A1 * D1\n    A1 = A1 / keep_prob\n", "    A1 = relu(Z1 * D1) / keep_prob\n"),)),
    Variant("fwd_in_place", DROP_FORWARD,
            (("    A1 = A1 * D1\n    A1 = A1 / keep_prob\n", "    A1 = np.multiply(A1, D1)\n    A1 /= keep_prob\n"),)),
    Variant("fwd_int_masks", DROP_FORWARD, (("D1 = D1 < keep_prob", "D1 = (D1 < keep_prob).astype(int)"),)),
    Variant("fwd_less_or_equal", DROP_FORWARD, (("< keep_prob", "<= keep_prob"),)),
    Variant("fwd_default_rng", DROP_FORWARD,
            (("D1 = np.random.rand(A1.shape[0], A1.shape[1])",
              "rng = np.random.default_rng(7)\n    D1 = rng.random((A1.shape[0], A1.shape[1]))"),
             ("D2 = np.random.rand(A2.shape[0], A2.shape[1])", "D2 = rng.random(A2.shape)")), True),
    Variant("fwd_one_minus_keep_prob_threshold", DROP_FORWARD, (("< keep_prob", ">= 1 - keep_prob"),), True),
    Variant("fwd_transposed_draw", DROP_FORWARD,
            (("np.random.rand(A1.shape[0], A1.shape[1])", "np.random.rand(A1.shape[1], A1.shape[0]).T"),
             ("np.random.rand(A2.shape[0], A2.shape[1])", "np.random.rand(A2.shape[1], A2.shape[0]).T")), True),
    Variant("fwd_binomial", DROP_FORWARD,
            (("np.random.rand(A1.shape[0], A1.shape[1])\n    D1 = D1 < keep_prob",
              "np.random.binomial(1, keep_prob, size=A1.shape)"),
             ("np.random.rand(A2.shape[0], A2.shape[1])\n    D2 = D2 < keep_prob",
              "np.random.binomial(1, keep_prob, size=A2.shape)"))),  # the assignment's stream for keep_prob > 0.5
    Variant("fwd_other_seed", DROP_FORWARD, (("np.random.seed(1)", "np.random.seed(3)"),), True),
    Variant("bwd_one_line", DROP_BACKWARD,
            (("    dA2 = dA2 * D2\n    dA2 = dA2 / keep_prob\n", "    dA2 = dA2 * D2 / keep_prob\n"),
             ("    dA1 = dA1 * D1\n    dA1 = dA1 / keep_prob\n", "    dA1 = np.multiply(dA1, D1) / keep_prob\n"))),
)  # fmt: skip


def defined(case) -> object:
    """The graded function as written in ``case`` (a Mistake or a Variant)."""
    edited = Mistake(case.id, case.function, "", case.edits)
    return define_functions({case.function: mistaken_cell(edited, solution_cells())})[case.function]


def score(functions: dict) -> dict[str, int]:
    """Points per graded function that the hidden checks give ``functions``, run in this process."""
    totals = dict.fromkeys(GRADED_FUNCTIONS, 0)
    for check in CHECKS.values():
        if verdict(check, [perform(call, functions) for call in check.calls()]) is None:
            totals[check.function] += check.points
    return totals
