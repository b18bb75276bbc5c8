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
def built_once(tmp_path_factory):
    """Call ``built_once(name)`` in an expensive module fixture: fails if this run builds it twice.

    ``make test`` sends each test file to one pytest-xdist worker (--dist loadfile),
    so a module fixture is built once per run. Should a change of scheduler ever split
    a module across workers, this says so instead of silently doubling the cost.
    """
    base = tmp_path_factory.getbasetemp()
    run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def claim(name: str) -> None:
        try:
            (run_dir / f"built-once-{name}").touch(exist_ok=False)
        except FileExistsError:
            pytest.fail(f"The fixture {name!r} was built twice in one run: run pytest with --dist loadfile.")

    return claim


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


# CI has root, chromium and REG_REFERENCE_DATA, so every test can run there: a skip
# in CI means something is missing from .ci/run, and it fails the run instead of
# passing quietly. Elsewhere a skip says how to enable the test, as usual.
_skipped_in_ci: list[str] = []


def pytest_runtest_logreport(report):
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        _skipped_in_ci.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_in_ci and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _skipped_in_ci:
        terminalreporter.write_line(
            f"CI is set and {len(_skipped_in_ci)} test(s) were skipped, which fails the run: "
            + ", ".join(_skipped_in_ci[:10]),
            red=True,
        )
