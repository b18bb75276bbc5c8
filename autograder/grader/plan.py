"""What to run for a submission, decided by the SOURCE notebook, and the graded notebook it gives.

The source notebook (instructor side) says which cells are hidden tests,
which are locked and which hold the graded functions. A submission's cells
are matched to it by their nbgrader ``grade_id``, or, when a student's
editor stripped the metadata, by their exact text. Then:

- a test cell is never run in the sandbox: at its place the sandbox performs
  that test's calls, and the grader judges the outputs; a forged ``grade``
  flag on any other cell changes nothing;
- a locked cell runs with the source's text, whatever the student edited;
- a deleted test or locked cell is put back where the source has it;
- every other code cell runs as the student wrote it.

``assemble`` builds the autograded notebook nbgrader's feedback reads:
source metadata on known cells, none on the others, each test cell showing
``CheckFailed: <reason>`` when it failed, as the stock path would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .extract import Cell

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
ADDED_NOTE = "# The grader added this cell back: it was missing from the submission.\n"
#: Keys kept from a source cell's metadata in the autograded notebook.
_META_KEYS = ("deletable", "editable", "nbgrader")


def normalized(text: str) -> str:
    """Text for matching: no trailing spaces, no leading or trailing blank lines."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def visible_part(test_source: str) -> str:
    """A test cell as students see it: the hidden region removed (as nbgrader's ClearHiddenTests)."""
    return _HIDDEN.sub("", test_source)


@dataclass(frozen=True)
class SourceCell:
    """A cell of the source notebook with an nbgrader identity."""

    position: int
    cell_type: str
    grade_id: str
    role: str  # "test", "solution", "locked" or "free" (unlocked, not graded)
    source: str
    metadata: dict  # as in the student release (checksums included) when there is one
    points: float = 0.0


class SourceError(RuntimeError):
    """The source notebook and the hidden checks disagree, or a file is missing."""


@dataclass
class Assignment:
    """The source notebook's notion of the assignment's cells."""

    cells: list[SourceCell]
    notebook_metadata: dict
    release_stubs: dict[str, str] = field(default_factory=dict)  # solution grade_id -> release text

    @property
    def by_id(self) -> dict[str, SourceCell]:
        return {cell.grade_id: cell for cell in self.cells}

    @property
    def tests(self) -> dict[str, SourceCell]:
        return {cell.grade_id: cell for cell in self.cells if cell.role == "test"}

    @classmethod
    def load(cls, source_path: Path, release_path: Path | None = None) -> Assignment:
        try:
            source = json.loads(Path(source_path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SourceError(f"the source notebook {source_path} does not exist") from None
        except (ValueError, OSError) as exc:
            raise SourceError(f"the source notebook {source_path} cannot be read: {exc}") from None
        release = {}
        if release_path is not None and Path(release_path).is_file():
            notebook = json.loads(Path(release_path).read_text(encoding="utf-8"))
            for cell in notebook.get("cells", []):
                meta = cell.get("metadata", {})
                if meta.get("nbgrader", {}).get("grade_id"):
                    release[meta["nbgrader"]["grade_id"]] = cell
        cells = []
        for position, cell in enumerate(source["cells"]):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if not grade_id:
                continue
            if meta.get("grade") and not meta.get("solution"):
                role = "test"
            elif meta.get("solution"):
                role = "solution"
            elif meta.get("locked"):
                role = "locked"
            else:
                role = "free"
            released = release.get(grade_id, {})
            metadata = {k: v for k, v in released.get("metadata", {}).items() if k in _META_KEYS}
            metadata.setdefault("nbgrader", {k: v for k, v in meta.items()})
            cells.append(
                SourceCell(
                    position,
                    cell["cell_type"],
                    grade_id,
                    role,
                    "".join(cell["source"]),
                    metadata,
                    float(meta.get("points", 0) or 0),
                )
            )
        stubs = {gid: "".join(cell.get("source", "")) for gid, cell in release.items()}
        return cls(cells, source.get("metadata", {}), stubs)

    def check_against(self, checks: dict) -> None:
        """SourceError unless the source's test cells are exactly the hidden checks, points included."""
        tests = self.tests
        if set(tests) != set(checks):
            raise SourceError(
                "the source notebook's test cells and autograder.hidden_checks.CHECKS differ: "
                f"only in the notebook {sorted(set(tests) - set(checks))}, "
                f"only in CHECKS {sorted(set(checks) - set(tests))}"
            )
        wrong = [gid for gid, cell in tests.items() if cell.points != checks[gid].points]
        if wrong:
            raise SourceError(f"points differ between the source notebook and CHECKS for {wrong}")


@dataclass
class Planned:
    """A cell of the autograded notebook and how the sandbox treats it."""

    cell_type: str
    source: str  # the text shown (for tests: the full source cell)
    metadata: dict
    role: str  # "test", "solution", "locked", "free", "student", "text"
    grade_id: str | None = None
    run: str | None = None  # the code the sandbox executes (code cells)
    step: int | None = None
    added: bool = False


@dataclass
class Plan:
    cells: list[Planned]
    steps: list[dict]  # {"kind": "cell", "source"} or {"kind": "check", "id"}
    notes: list[str]


def _match(cell: Cell, assignment: Assignment, by_text: dict, seen: set[str]) -> SourceCell | None:
    gid = cell.nbgrader.get("grade_id")
    if isinstance(gid, str):
        known = assignment.by_id.get(gid)
        if known is not None and known.cell_type == cell.cell_type:
            return known
    # Cells with the same text (a chart drawn twice) match the source's in order.
    candidates = by_text.get((cell.cell_type, normalized(cell.source)), [])
    return next(
        (known for known in candidates if known.grade_id not in seen), candidates[-1] if candidates else None
    )


def plan(cells: list[Cell], assignment: Assignment) -> Plan:
    """Match the submission's cells to the source and list the sandbox's steps."""
    by_text = {}
    for known in assignment.cells:
        if known.role == "test":
            by_text.setdefault((known.cell_type, normalized(visible_part(known.source))), []).append(known)
        elif known.role == "locked":
            by_text.setdefault((known.cell_type, normalized(known.source)), []).append(known)
    notes: list[str] = []
    if cells and not any(cell.nbgrader for cell in cells):
        notes.append(
            "the notebook has no nbgrader metadata: cells were matched to the assignment by their text"
        )
    planned: list[Planned] = []
    seen: set[str] = set()
    restored, duplicates = [], []
    for cell in cells:
        known = _match(cell, assignment, by_text, seen)
        if known is not None and known.grade_id in seen:
            if known.role == "test":
                duplicates.append(known.grade_id)
                continue
            known = None
        if known is None:
            role = "student" if cell.cell_type == "code" else "text"
            planned.append(
                Planned(
                    cell.cell_type,
                    cell.source,
                    {},
                    role,
                    run=cell.source if cell.cell_type == "code" else None,
                )
            )
            continue
        seen.add(known.grade_id)
        if known.role in ("test", "locked"):
            if known.role == "locked" and normalized(cell.source) != normalized(known.source):
                restored.append(known.grade_id)
            run = None if known.role == "test" or known.cell_type != "code" else known.source
            planned.append(
                Planned(known.cell_type, known.source, known.metadata, known.role, known.grade_id, run=run)
            )
        else:  # solution or free: the student's text under the source's identity
            run = cell.source if cell.cell_type == "code" else None
            planned.append(
                Planned(cell.cell_type, cell.source, known.metadata, known.role, known.grade_id, run=run)
            )
    added = _restore_missing(planned, assignment, seen)
    if restored:
        notes.append(f"locked cell(s) {', '.join(restored)} were edited; the original text was run")
    if duplicates:
        notes.append(f"duplicate test cell(s) {', '.join(duplicates)} were ignored")
    if added:
        notes.append(f"missing cell(s) {', '.join(added)} were added back from the assignment")
    steps = []
    for cell in planned:
        if cell.role == "test":
            cell.step = len(steps)
            steps.append({"kind": "check", "id": cell.grade_id})
        elif cell.run is not None and cell.run.strip():
            cell.step = len(steps)
            steps.append({"kind": "cell", "source": cell.run})
    return Plan(planned, steps, notes)


def _restore_missing(planned: list[Planned], assignment: Assignment, seen: set[str]) -> list[str]:
    """Put back deleted test and locked code cells after their nearest surviving predecessor."""
    added = []
    for known in assignment.cells:
        if known.grade_id in seen or known.role not in ("test", "locked") or known.cell_type != "code":
            continue
        earlier = [c.grade_id for c in assignment.cells if c.position < known.position]
        index = 0
        for position, cell in enumerate(planned):
            if cell.grade_id in earlier:
                index = position + 1
        run = None if known.role == "test" else known.source
        planned.insert(
            index,
            Planned(
                known.cell_type,
                ADDED_NOTE + known.source,
                known.metadata,
                known.role,
                known.grade_id,
                run=run,
                added=True,
            ),
        )
        seen.add(known.grade_id)
        added.append(known.grade_id)
    return added


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _stream(text: str, name: str = "stderr") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def assemble(
    plan_: Plan, assignment: Assignment, cell_results: dict, test_results: dict, preface: str | None = None
) -> dict:
    """The autograded notebook (nbformat 4 dict).

    ``cell_results``: step -> (outputs, execution_count) or a string saying why the cell did not run;
    ``test_results``: grade_id -> None (passed) or the failure message (``function: reason``).
    """
    cells = []
    if preface:
        cells.append({"cell_type": "markdown", "metadata": {}, "source": preface})
    for cell in plan_.cells:
        metadata = json.loads(json.dumps(cell.metadata))
        entry: dict = {"cell_type": cell.cell_type, "metadata": metadata, "source": cell.source}
        if cell.cell_type == "code":
            outputs, count = [], None
            if cell.role == "test":
                failure = test_results.get(cell.grade_id, "not graded")
                if failure is not None:
                    outputs = [_error("CheckFailed", failure)]
            elif cell.step is not None:
                result = cell_results.get(cell.step, "not run: the notebook stopped before this cell")
                if isinstance(result, str):
                    outputs = [_stream(f"[grader] {result}\n")]
                else:
                    outputs, count = result
            entry.update(outputs=outputs, execution_count=count)
        cells.append(entry)
    return {
        "cells": cells,
        "metadata": json.loads(json.dumps(assignment.notebook_metadata)),
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def placeholder_plan(assignment: Assignment) -> Plan:
    """The assignment's cells with nothing run: the graded notebook of an unreadable submission."""
    cells = []
    for known in assignment.cells:
        if known.role == "test" or (known.cell_type == "markdown" and known.role == "locked"):
            cells.append(Planned(known.cell_type, known.source, known.metadata, known.role, known.grade_id))
    return Plan(cells, [], [])
