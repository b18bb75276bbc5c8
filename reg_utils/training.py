"""Plain batch gradient descent over any forward/cost/backward trio.

The assignment's ``model`` (notebook section 1) picks which trio to use
(plain, L2 or dropout) and hands it to ``gradient_descent``; the loop
itself is the same for all three. The cost is evaluated only on the
iterations where it is recorded: the numbers are those of a loop that
computes it every time, for a fraction of the work.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .network import update_parameters


def gradient_descent(
    X,
    Y,
    parameters: dict,
    forward: Callable,
    cost: Callable,
    backward: Callable,
    learning_rate: float,
    num_iterations: int,
    record_every: int = 1000,
    print_every: int | None = 10000,
):
    """Run ``num_iterations`` steps of gradient descent; return (parameters, costs).

    - ``forward(X, parameters) -> (A3, cache)``
    - ``cost(A3, Y, parameters) -> float``
    - ``backward(X, Y, cache) -> grads``

    ``costs`` holds the cost at iterations 0, record_every, 2*record_every, ...
    and "Cost after iteration i: ..." is printed every ``print_every`` iterations.
    """

    costs = []
    for i in range(num_iterations):
        a3, cache = forward(X, parameters)
        if i % record_every == 0 or (print_every and i % print_every == 0):
            value = cost(a3, Y, parameters)
            if i % record_every == 0:
                costs.append(value)
            if print_every and i % print_every == 0:
                print(f"Cost after iteration {i}: {value}")
        grads = backward(X, Y, cache)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs


#: Iterations each training run gets while nbgrader executes the notebook.
GRADING_ITERATIONS = 300


def training_iterations(num_iterations: int) -> int:
    """``num_iterations``, or ``GRADING_ITERATIONS`` when the autograder runs the notebook.

    nbgrader sets NBGRADER_EXECUTION in the kernel while it validates or grades.
    The three 30000-iteration runs earn no points (the graded functions are
    checked on their own), so grading shortens them and says so in the output.
    Used by ``model`` in section 1 of the notebook.
    """
    if os.environ.get("NBGRADER_EXECUTION") and num_iterations > GRADING_ITERATIONS:
        print(
            f"(Autograder run: training shortened from {num_iterations} to "
            f"{GRADING_ITERATIONS} iterations; training cells carry no points.)"
        )
        return GRADING_ITERATIONS
    return num_iterations
