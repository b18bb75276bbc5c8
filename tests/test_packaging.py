"""Packaging: conda and pip agree, the kit imports from anywhere, graded names stay absent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import reg_utils

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

try:
    import yaml
except ModuleNotFoundError:  # pragma: no cover - pyyaml arrives with jupyter
    yaml = None

#: What the assignment notebook imports from reg_utils.
ASSIGNMENT_IMPORTS = (
    "sigmoid", "relu", "plot_decision_boundary", "initialize_parameters", "load_2D_dataset",
    "predict_dec", "compute_cost", "predict", "forward_propagation", "backward_propagation",
    "update_parameters",
)  # fmt: skip
#: The student's work: must never be provided by the kit.
GRADED = (
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
)
FIXTURE_BUILDERS = (
    "compute_cost_with_regularization_test_case",
    "backward_propagation_with_regularization_test_case",
    "forward_propagation_with_dropout_test_case",
    "backward_propagation_with_dropout_test_case",
)
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][0-9A-Za-z.]*))?\s*$")


def parse_requirement(text: str) -> tuple[str, str | None]:
    match = REQUIREMENT.match(text)
    assert match, f"unexpected requirement syntax: {text!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2)


def environment_dependencies(text: str) -> list[str]:
    """The plain entries of ``dependencies:`` in a simple conda environment.yml.

    Nested lists (the ``pip:`` section) and mappings are left out.
    """
    entries, inside, indent = [], False, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):
            inside = line.strip() == "dependencies:"
            indent = None
            continue
        if not inside:
            continue
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if indent is None:
            indent = depth
        if depth != indent or not stripped.startswith("- "):
            continue
        item = stripped[2:].strip()
        if not item.endswith(":"):
            entries.append(item)
    return entries


def test_line_parser_on_a_sample():
    sample = textwrap.dedent(
        """\
        name: demo  # comment
        channels:
          - conda-forge
        dependencies:
          - python>=3.10
          - numpy>=2.0   # trailing comment
          - pip
          - pip:
              - -e .
        """
    )
    assert environment_dependencies(sample) == ["python>=3.10", "numpy>=2.0", "pip"]


@pytest.fixture(scope="module")
def pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment_text(root):
    return (root / "environment.yml").read_text(encoding="utf-8")


def test_environment_yml_lists_the_pyproject_dependencies(pyproject, environment_text):
    conda = dict(parse_requirement(item) for item in environment_dependencies(environment_text))
    conda.pop("pip", None)
    python = conda.pop("python", None)
    pip = dict(parse_requirement(item) for item in pyproject["project"]["dependencies"])

    assert conda == pip
    assert all(bound for bound in pip.values()), "every dependency needs a lower bound"
    assert python == pyproject["project"]["requires-python"].removeprefix(">=")


def test_environment_yml_installs_the_kit_itself(environment_text):
    assert re.search(r"^\s+- pip:\s*\n\s+- -e \.\s*$", environment_text, re.MULTILINE)


def test_line_parser_agrees_with_pyyaml(environment_text):
    if yaml is None:
        pytest.fail("pyyaml is expected with jupyter; install the kit with its dependencies")
    data = yaml.safe_load(environment_text)
    plain = [item for item in data["dependencies"] if isinstance(item, str)]
    assert environment_dependencies(environment_text) == plain


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory, root):
    """The kit built as a wheel (offline) and unpacked into a directory of its own."""
    out = tmp_path_factory.mktemp("wheel")
    # A clean copy: setuptools would otherwise reuse (stale) files from the repo's build/ directory.
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    for name in ("reg_utils", "datasets", "testCases"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out / "dist"), str(source)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    wheel = next((out / "dist").glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "-q", "--target", str(out / "site"), str(wheel)],
                   check=True, capture_output=True, timeout=300)  # fmt: skip
    return out / "site"


@pytest.mark.parametrize("install", ["editable", "wheel"])
def test_assignment_imports_work_from_any_directory(install, tmp_path, root, request):
    """From a directory that is not the repo, as the notebook imports them, editable or from a wheel."""
    script = textwrap.dedent(
        f"""\
        from reg_utils import ({", ".join(ASSIGNMENT_IMPORTS)})
        from testCases import *
        from reg_utils.explorer import show_explorer

        import reg_utils
        import testCases

        missing = [n for n in {FIXTURE_BUILDERS!r} if n not in globals()]
        assert not missing, missing
        leaked = [n for n in {GRADED!r} if n in globals()]
        assert not leaked, leaked
        train_X, train_Y, test_X, test_Y = load_2D_dataset()
        assert train_X.shape == (2, 211) and test_X.shape == (2, 200)
        compute_cost_with_regularization_test(lambda *a, **k: 0.0)  # the judge ships in the package
        print(reg_utils.__file__)
        print(testCases.__file__)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    if install == "wheel":
        env["PYTHONPATH"] = str(request.getfixturevalue("wheel_site"))
        # The venv's editable install would answer for modules the wheel lacks: switch it off.
        script = (
            "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        ) + script
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is not right yet" in result.stdout
    reg_utils_file, test_cases_file = result.stdout.splitlines()[-2:]
    # The modules came from the kit (the wheel's copy when testing the wheel), not from the temp dir.
    expected = str(request.getfixturevalue("wheel_site")) if install == "wheel" else str(root)
    assert reg_utils_file.startswith(expected)
    assert test_cases_file.startswith(expected)


def test_assignment_import_list_is_exported():
    for name in ASSIGNMENT_IMPORTS:
        assert callable(getattr(reg_utils, name)), name
        assert name in reg_utils.__all__, name


@pytest.mark.parametrize("name", GRADED)
def test_graded_functions_are_not_part_of_the_kit(name):
    import testCases

    assert not hasattr(reg_utils, name)
    assert not hasattr(testCases, name)


def test_kit_never_mentions_the_shared_directory(root):
    offenders = []
    for folder in ("reg_utils", "testCases", "datasets", "notebooks"):
        base = root / folder
        if folder == "notebooks" and not base.exists():
            continue  # git keeps no empty folder; the code folders must exist
        assert base.is_dir(), folder
        for path in sorted(base.rglob("*")):
            skipped = {"__pycache__", ".ipynb_checkpoints"}
            if path.is_dir() or skipped.intersection(path.relative_to(root).parts):
                continue
            if b"shared/" in path.read_bytes():
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_lowest_constraints_pin_exactly_the_declared_lower_bounds(root):
    """`make test-lowest` runs the suite on the versions pyproject.toml claims to support."""
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = dict(re.fullmatch(r"([\w-]+)>=([\d.]+)", spec).groups() for spec in declared)
    lines = (root / "tests" / "lowest-constraints.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert pins == bounds
