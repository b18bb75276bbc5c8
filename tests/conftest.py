"""Shared test configuration: paths, the optional reference dataset, headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent

# Kernels started by nbval and nbgrader import the instructor-only `autograder`
# package (hidden checks, reference solutions) from the repo root.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
os.environ.setdefault("MPLBACKEND", "Agg")
# plt.show() on Agg warns "non-interactive" when a display is around; tests have none.
os.environ.pop("DISPLAY", None)
os.environ.setdefault("JUPYTER_CONFIG_PATH", str(ROOT / ".jupyter"))


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def reference_data_path() -> Path:
    """The course's original dataset, given by REG_REFERENCE_DATA; skips when absent."""
    value = os.environ.get("REG_REFERENCE_DATA")
    if not value:
        pytest.skip(
            "REG_REFERENCE_DATA is not set: point it at the course's original data.mat "
            "(.ci/run does so when ../shared/reference/original_data.mat exists)."
        )
    path = Path(value)
    if not path.is_file():
        pytest.skip(f"REG_REFERENCE_DATA={value} does not name a file.")
    return path
