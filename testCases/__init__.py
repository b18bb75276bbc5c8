"""Fixtures and friendly checks for the four graded functions.

``from testCases import *`` gives the notebook the assignment's four
``*_test_case`` builders, one ``*_test`` check per graded function and
``public_test``, the visible part of the graded test cells.
"""

from .checks import (
    NotRightYet,
    backward_propagation_with_dropout_test,
    backward_propagation_with_regularization_test,
    compute_cost_with_regularization_test,
    forward_propagation_with_dropout_test,
    public_test,
)
from .fixtures import (
    backward_propagation_with_dropout_test_case,
    backward_propagation_with_regularization_test_case,
    compute_cost_with_regularization_test_case,
    forward_propagation_with_dropout_test_case,
)

__all__ = [
    "NotRightYet",
    "backward_propagation_with_dropout_test",
    "backward_propagation_with_dropout_test_case",
    "backward_propagation_with_regularization_test",
    "backward_propagation_with_regularization_test_case",
    "compute_cost_with_regularization_test",
    "compute_cost_with_regularization_test_case",
    "forward_propagation_with_dropout_test",
    "forward_propagation_with_dropout_test_case",
    "public_test",
]
