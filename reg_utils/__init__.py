"""Helpers for the regularization assignment (L2 and dropout on a 3-layer network).

The notebook imports them exactly as the assignment does::

    from reg_utils import sigmoid, relu, plot_decision_boundary, initialize_parameters
    from reg_utils import load_2D_dataset, predict_dec, compute_cost, predict
    from reg_utils import forward_propagation, backward_propagation, update_parameters

The four graded functions are deliberately absent: they are the student's work.
"""

from .activations import relu, sigmoid
from .cost import compute_cost
from .errors import RegularizationInputError, check_keep_prob, check_lambd
from .loading import load_2D_dataset
from .network import (
    backward_propagation,
    forward_propagation,
    initialize_parameters,
    update_parameters,
)
from .plotting import (
    plot_costs,
    plot_dataset,
    plot_decision_boundary,
    plot_dropout_network,
    plot_football_field,
    plot_weight_norms,
)
from .predict import accuracy, predict, predict_dec
from .report import accuracy_table
from .training import gradient_descent, training_iterations

__all__ = [
    "RegularizationInputError",
    "accuracy",
    "accuracy_table",
    "backward_propagation",
    "check_keep_prob",
    "check_lambd",
    "compute_cost",
    "forward_propagation",
    "gradient_descent",
    "initialize_parameters",
    "load_2D_dataset",
    "plot_costs",
    "plot_dataset",
    "plot_decision_boundary",
    "plot_dropout_network",
    "plot_football_field",
    "plot_weight_norms",
    "predict",
    "predict_dec",
    "relu",
    "sigmoid",
    "training_iterations",
    "update_parameters",
]
