"""The live regularization explorer: sliders for lambda and keep_prob that retrain and redraw.

The assignment shows three frozen pictures (no regularization, L2 with
lambda 0.7, dropout with keep_prob 0.86). Here the learner drags lambda
or keep_prob and watches the network of the assignment ([2, 20, 3, 1],
learning rate 0.3, 30000 iterations) retrain from the same initial
weights: the boundary stops chasing noisy points, the weights shrink,
test accuracy rises and then falls once the model gets too simple.

``show_explorer()`` builds and displays the app. It is used by
``notebooks/Explore_regularization.ipynb`` (also served by ``make explore``
through Voila) and by the last section "Explore" of the assignment, which
passes the student's four functions in ``student_functions``.

How it stays live: every control change bumps a generation counter and
hands a job to a training thread, which runs the compiled engine
(``reg_utils.engine``, GIL released) in chunks and checks the counter
between chunks (~40 ms each), so a stale run stops at once. A drawing
thread renders the newest snapshot with matplotlib's object API on Agg
canvases (never pyplot, always under one lock) into JPEG and PNG bytes for
``ipywidgets.Image``, and publishes it only if its generation is still
the current one: the picture at rest always belongs to the values shown.

The package, one idea per module:

- ``settings``: the values that decide a run (``Settings``, URL queries,
  slider stops), the datasets and the starting weights;
- ``records``: what the parts share: a run's snapshot (``Frame``), a
  sweep's result, and ``ExplorerState``, the app's one mutable state;
- ``student``: checking the learner's four functions and training with them;
- ``painters``: the three pictures, drawn with matplotlib on Agg canvases;
- ``controls``: the widgets, reading and changing them;
- ``live``: the training and drawing threads that keep the pictures current;
- ``sweep``: the "Sweep" button, one training per grid value;
- ``app``: ``RegularizationExplorer``, which owns one state and one of each
  part and wires them together, and ``show_explorer()``.

Imports go one way: settings <- records <- painters, controls <- live,
sweep <- app.
"""

# "X as X": the names of the former single module reg_utils/explorer.py that are
# not in __all__ stay importable from here (the explorer benchmark holds
# _MPL_LOCK while it times the painters).
from .app import RegularizationExplorer, show_explorer
from .painters import _MPL_LOCK as _MPL_LOCK
from .painters import BoundaryPainter as BoundaryPainter
from .painters import CurvesPainter as CurvesPainter
from .painters import SweepPainter as SweepPainter
from .records import Frame as Frame
from .records import SweepResult as SweepResult
from .settings import DATASETS as DATASETS
from .settings import ITERATION_CHOICES as ITERATION_CHOICES
from .settings import KEEP_PROB_RANGE as KEEP_PROB_RANGE
from .settings import LAMBDA_CHOICES, Settings
from .settings import LAYER_DIMS as LAYER_DIMS
from .settings import LEARNING_RATES as LEARNING_RATES
from .settings import REGULARIZERS as REGULARIZERS
from .settings import SWEEP_KEEP_PROBS as SWEEP_KEEP_PROBS
from .settings import SWEEP_LAMBDAS as SWEEP_LAMBDAS
from .settings import Dataset as Dataset
from .settings import initial_parameters as initial_parameters
from .settings import load_dataset as load_dataset
from .student import STUDENT_FUNCTION_NAMES, check_student_functions
from .student import FunctionCheck as FunctionCheck

__all__ = [
    "LAMBDA_CHOICES",
    "STUDENT_FUNCTION_NAMES",
    "RegularizationExplorer",
    "Settings",
    "check_student_functions",
    "show_explorer",
]
