"""Points-only mode: run just the cells the graded functions need, keep the student's other outputs.

Most of a correct submission's grading time goes to cells that carry no
points (training runs, plots). In points-only mode (``--mode points``) the
plan keeps, of the code cells the full mode would run:

- every cell with an import (modules the functions use at call time);
- every cell that defines a name the hidden tests call (the graded
  functions, found from the checks' calls), and, transitively, every cell
  that defines a name those cells use (helpers, constants), read from the
  code with ``ast``, whatever the cell order (a function's globals are
  looked up when it is called, which is after every earlier cell ran);
- every cell that cannot be parsed (its fate in the sandbox decides);
- every hidden test, at its place;

but no cell after the last hidden test: nothing run there can change a
verdict (the explorer cell at the end imports ipywidgets, half a second).
The other code cells are not run. The graded notebook (and so the feedback)
shows, for each, a line saying it was not re-run, then the outputs the
student saved (text and PNG only, bounded as in full mode). The verdicts are
those of the full mode (autograder/README.md says what else may differ).
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import json
import re
from pathlib import Path

from .plan import Plan, Planned

MODES = ("full", "points")
NOT_RERUN = "[grader] points-only mode: this cell was not re-run; the outputs below are the student's own\n"
MAX_TEXT = 20_000  # characters of kept text per cell (as the sandbox's cap)
MAX_IMAGES = 2_000_000  # characters of base64 PNG per notebook
_BUILTINS = frozenset(dir(builtins))
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")  # a saved PNG is shown only if it cannot carry markup


@dataclasses.dataclass
class PointsPlan(Plan):
    """A plan whose skipped cells carry the outputs to show: (outputs, execution_count) by key."""

    kept: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CellNames:
    """What a cell's code binds at top level and which global names it reads."""

    defines: set[str]
    uses: set[str]
    imports: bool
    parsed: bool = True


def names_of(source: str) -> CellNames:
    """The names a cell binds at top level and the global names it reads, function bodies included."""
    names = _cached_names(source) if len(source) <= CACHED_CHARS else _names_of(source)
    return CellNames(set(names.defines), set(names.uses), names.imports, names.parsed)


#: Most cells are the same in every submission: parsed once a batch (at most ~20 MB of sources kept).
CACHED_CHARS = 20_000


def _names_of(source: str) -> CellNames:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return CellNames(set(), set(), False, parsed=False)
    scan = _TopLevel()
    scan.visit(tree)
    return CellNames(scan.defines, scan.uses - _BUILTINS, scan.imports)


_cached_names = functools.lru_cache(maxsize=1024)(_names_of)


class _TopLevel(ast.NodeVisitor):
    """Module-level bindings and reads; a function contributes its name and its free names."""

    def __init__(self):
        self.defines: set[str] = set()
        self.uses: set[str] = set()
        self.imports = False

    def visit_Import(self, node):
        self.imports = True
        self.defines.update((alias.asname or alias.name).split(".")[0] for alias in node.names)

    visit_ImportFrom = visit_Import

    def visit_Name(self, node):
        (self.uses if isinstance(node.ctx, ast.Load) else self.defines).add(node.id)

    def _function(self, node):
        if not isinstance(node, ast.Lambda):
            self.defines.add(node.name)
            for decorator in node.decorator_list:
                self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.uses |= _free_names(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node):
        self.defines.add(node.name)
        self.generic_visit(node)


def _free_names(function: ast.AST) -> set[str]:
    """Names a function (with its nested scopes) reads but never binds itself: its globals.

    Over-approximates the reads and treats a name bound anywhere inside as
    local, except where declared ``global``.
    """
    local, loads, declared = set(), set(), set()
    for node in ast.walk(function):
        if isinstance(node, ast.arguments):
            every = [*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg]
            local.update(a.arg for a in every if a is not None)
        elif isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else local).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not function:
            local.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            local.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
    return loads - (local - declared)


def needed_steps(sources: dict[int, str], roots: set[str]) -> set[int]:
    """Keys of the cells to run so that every name in ``roots`` (and what it uses) is defined."""
    cells = {key: names_of(text) for key, text in sources.items()}
    keep = {key for key, names in cells.items() if names.imports or not names.parsed}
    wanted = set(roots)
    for key in keep:
        wanted |= cells[key].uses
    changed = True
    while changed:
        changed = False
        for key, names in cells.items():
            if key not in keep and names.defines & wanted:
                keep.add(key)
                wanted |= names.uses
                changed = True
    return keep


def called_functions(wire_forms: dict) -> set[str]:
    """Every function name the hidden tests call (the ``f`` of each call's wire form)."""
    names = set()
    for calls in wire_forms.values():
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict) and isinstance(call.get("f"), str):
                names.add(call["f"])
    return names


def points_plan(full: Plan, roots: set[str], notebook: Path | None) -> PointsPlan:
    """``full`` reduced to the cells the hidden tests need; skipped cells keep the student's outputs."""
    sources = {step: s["source"] for step, s in enumerate(full.steps) if s["kind"] == "cell"}
    checks = [step for step, s in enumerate(full.steps) if s["kind"] == "check"]
    last_check = max(checks, default=-1)
    keep = {step for step in needed_steps(sources, roots) if step < last_check}
    saved = _saved_outputs(full, notebook)
    budget = [MAX_IMAGES]
    cells: list[Planned] = []
    steps: list[dict] = []
    kept: dict = {}
    for position, cell in enumerate(full.cells):
        if cell.step is None:
            cells.append(cell)
        elif full.steps[cell.step]["kind"] == "check" or cell.step in keep:
            cells.append(dataclasses.replace(cell, step=len(steps)))
            steps.append(full.steps[cell.step])
        else:
            key = f"kept-{position}"
            cells.append(dataclasses.replace(cell, step=key))
            kept[key] = ([_stream(NOT_RERUN), *_bounded(saved.get(position, []), budget)], None)
    return PointsPlan(cells, steps, list(full.notes), kept)


def _saved_outputs(full: Plan, notebook: Path | None) -> dict[int, list]:
    """The submission's own outputs, by position in ``full.cells``, where the cells line up one to one.

    The planned cells follow the submission's order; cells the grader added back
    are not in the submission. When the code cells do not pair up (a duplicate
    test cell was dropped), nothing is kept rather than outputs shown under the wrong cell.
    """
    try:
        data = json.loads(notebook.read_text(encoding="utf-8")) if notebook else {}
        code = [c for c in data.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (OSError, ValueError, AttributeError):
        return {}
    planned = [n for n, c in enumerate(full.cells) if c.cell_type == "code" and not c.added]
    if len(code) != len(planned):
        return {}
    pairs = zip(planned, code, strict=True)
    return {n: c["outputs"] for n, c in pairs if isinstance(c.get("outputs"), list)}


def _bounded(outputs: list, budget: list[int]) -> list[dict]:
    """Text and PNG outputs only, as plain nbformat dicts, within the text cap and the image budget."""
    kept, text_left = [], MAX_TEXT
    for output in outputs:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind == "stream":
            text = _text(output.get("text"))[:text_left]
            text_left -= len(text)
            if text:
                kept.append(_stream(text, "stderr" if output.get("name") == "stderr" else "stdout"))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            png = _text(data.get("image/png"))
            if png and len(png) <= budget[0] and _BASE64.fullmatch(png):
                budget[0] -= len(png)
                kept.append({"output_type": "display_data", "data": {"image/png": png}, "metadata": {}})
            elif text := _text(data.get("text/plain"))[:text_left]:
                text_left -= len(text)
                kept.append({"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}})
        elif kind == "error" and text_left > 0:
            text = f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}"[: text_left - 1] + "\n"
            text_left -= len(text)
            kept.append(_stream(text, "stderr"))
    return kept


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}
