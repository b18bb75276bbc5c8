"""The course helpers behind the regularization notebook (L2 and dropout on a 3-layer network).

Everything the notebook calls by the assignment's names (``sigmoid``,
``relu``, ``forward_propagation``, ``predict_dec``, ``load_2D_dataset`` ...)
is importable from here, next to the kit's own plotting and story helpers.
The four graded functions are deliberately absent: they are the student's work.
"""

from .activations import relu, sigmoid
from .cost import compute_cost
from .errors import RegularizationInputError, check_keep_prob, check_lambd
from .loading import load_2D_dataset, load_dev_set
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
    plot_kick_target,
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
    "load_dev_set",
    "plot_costs",
    "plot_dataset",
    "plot_decision_boundary",
    "plot_dropout_network",
    "plot_football_field",
    "plot_kick_target",
    "plot_weight_norms",
    "predict",
    "predict_dec",
    "relu",
    "sigmoid",
    "training_iterations",
    "update_parameters",
]
