"""Setting up the assignment notebook: figure size, and one sentence for unfinished work.

Called once by the notebook's first code cell. A student who runs every
cell before answering an exercise should read which function is not
finished yet, not a NameError traceback through the kit's code.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

#: The functions the student writes; an error inside one of them names it.
EXERCISES = (
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
)


def _exercise_in(tb) -> str | None:
    """The innermost graded function on the traceback, if any."""
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_name in EXERCISES:
            found = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return found


def unfinished_message(etype, value, tb) -> str:
    """One sentence saying what is missing and what to do about it."""
    exercise = _exercise_in(tb)
    name = getattr(value, "name", None)
    if exercise and issubclass(etype, NotImplementedError):
        return f"{exercise} is not written yet: replace its placeholder with your code, then rerun its cell."
    if exercise:
        return (f"{exercise} is not finished: `{name}` is used before your code sets it. "
                "Write it between START CODE HERE and END CODE HERE, then run that cell again.")  # fmt: skip
    if name:
        return (f"`{name}` is not defined yet: run the cells above this one first "
                "(Run > Run All Above Selected Cell).")  # fmt: skip
    return f"{etype.__name__}: {value}"


def _one_sentence(shell, etype, value, tb, tb_offset=None):
    stb = [f"\x1b[31m{unfinished_message(etype, value, tb)}\x1b[0m"]
    shell._showtraceback(etype, value, stb)
    return stb


def setup_notebook() -> None:
    """Figures 7 x 4 inches; NameError and NotImplementedError shown as one sentence in IPython."""
    plt.rcParams.update({"figure.figsize": (7, 4)})
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to set up
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NameError, NotImplementedError), _one_sentence)
