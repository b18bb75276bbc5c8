"""Fixtures and friendly checks for the graded functions.

``from testCases import *`` gives the notebook the assignment's
``<name>_test_case`` fixture builders, one ``<name>_test`` check per graded
function (both named after the declarations in ``contract``) and
``public_test``, the visible part of the graded test cells.
"""

from . import fixtures
from .checks import VISIBLE_CHECKS, NotRightYet, public_test
from .contract import GRADED_NAMES

globals().update(VISIBLE_CHECKS)
globals().update({f"{name}_test_case": getattr(fixtures, f"{name}_test_case") for name in GRADED_NAMES})

__all__ = sorted(
    ["NotRightYet", "public_test", *VISIBLE_CHECKS, *(f"{name}_test_case" for name in GRADED_NAMES)]
)
