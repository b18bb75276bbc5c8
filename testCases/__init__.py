"""Fixtures and friendly checks for the four graded functions.

``from testCases import *`` gives the notebook the assignment's four
``*_test_case`` builders and one ``*_test`` check per graded function.
"""

from .checks import (
    backward_propagation_with_dropout_test,
    backward_propagation_with_regularization_test,
    compute_cost_with_regularization_test,
    forward_propagation_with_dropout_test,
)
from .fixtures import (
    backward_propagation_with_dropout_test_case,
    backward_propagation_with_regularization_test_case,
    compute_cost_with_regularization_test_case,
    forward_propagation_with_dropout_test_case,
)

__all__ = [
    "backward_propagation_with_dropout_test",
    "backward_propagation_with_dropout_test_case",
    "backward_propagation_with_regularization_test",
    "backward_propagation_with_regularization_test_case",
    "compute_cost_with_regularization_test",
    "compute_cost_with_regularization_test_case",
    "forward_propagation_with_dropout_test",
    "forward_propagation_with_dropout_test_case",
]
