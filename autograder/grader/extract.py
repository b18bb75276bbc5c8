"""Reading a submission safely: which notebook, is it one, and its cells as plain text.

Nothing here executes or trusts the submission. A submission folder may hold
no notebook, several, a renamed one, a symlink, an empty or non-JSON file, a
format-3 notebook or a huge one: each case gives a ``Submission`` whose
``problem`` says, in one sentence, why it cannot be run (the student then
scores 0 with that reason), or whose ``note`` says what was unusual.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .bounds import MAX_DEPTH, MAX_DIGEST_BYTES, MAX_ENTRIES, MAX_NOTEBOOK_BYTES, MAX_SOURCE_CHARS
from .text import clean

NOTEBOOK = "Regularization.ipynb"
CELL_TYPES = ("code", "markdown", "raw")


@dataclass(frozen=True)
class Cell:
    """One cell of a submitted notebook: its type, its text and its nbgrader metadata (untrusted)."""

    cell_type: str
    source: str
    nbgrader: dict = field(default_factory=dict)


@dataclass
class Submission:
    """A student's hand-in for the assignment, read but not run."""

    student: str
    folder: Path | None
    notebook: Path | None = None
    cells: list[Cell] | None = None
    problem: str | None = None  # why it cannot be run (no notebook, not JSON, ...)
    note: str = ""  # what was unusual but handled (renamed, extra notebooks)
    digest: str = ""  # sha256 over the folder's files: "same submission" for --resume


def _regular_files(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        names = sorted(e.name for _, e in zip(range(MAX_ENTRIES), entries, strict=False))
    return [folder / name for name in names if stat.S_ISREG((folder / name).lstat().st_mode)]


def walk(folder: Path, depth: int = MAX_DEPTH, entries: int = MAX_ENTRIES) -> list[tuple[str, Path, bool]]:
    """Folders and regular files under ``folder``, in name order: (relative path, path, is a folder).

    Iterative (no recursion, so no depth can overflow the stack), never follows
    a link, and stops at ``depth`` levels and ``entries`` entries: a hostile
    folder tree costs the grader a bounded amount of work.
    """
    found: list[tuple[str, Path, bool]] = []
    stack = [(folder, "", 0)]
    while stack and len(found) < entries:
        current, prefix, level = stack.pop()
        try:
            children = sorted(os.scandir(current), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in children:
            relative = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if level + 1 < depth:
                    stack.append((Path(entry.path), relative + "/", level + 1))
                    found.append((relative, Path(entry.path), True))
            elif entry.is_file(follow_symlinks=False):
                found.append((relative, Path(entry.path), False))
    return sorted(found[:entries])


def read_files(folder: Path, budget: int, entries: int = MAX_ENTRIES):
    """Yield ``walk``'s folders as (relative, None) and its regular files as (relative, bytes).

    Links are never followed and special files are skipped (opened with
    O_NOFOLLOW and checked after opening, so nothing swaps them in between);
    a file that would overrun ``budget`` bytes in all is left out. The
    sandbox's scratch copy and a Dask task's packed files both read this way.
    """
    for relative, path, is_folder in walk(folder, entries=entries):
        if is_folder:
            yield relative, None
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                continue
            data = source.read(budget + 1)
        if len(data) <= budget:
            budget -= len(data)
            yield relative, data


def folder_digest(folder: Path, limit: int = MAX_DIGEST_BYTES) -> str:
    """sha256 over the names and bytes of the regular files under ``folder`` (bounded, links not followed)."""
    digest = hashlib.sha256()
    budget = limit
    for relative, path, is_folder in walk(folder):
        if is_folder:
            continue
        digest.update(os.fsencode(relative) + b"\0")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as handle:
            while budget > 0 and (block := handle.read(min(1 << 20, budget))):
                budget -= len(block)
                digest.update(block)
    return digest.hexdigest()


def choose_notebook(folder: Path) -> tuple[Path | None, str]:
    """The notebook to grade in ``folder`` and a note on how it was chosen (same rules as the stock path).

    The expected name wins; otherwise the newest ``Regularization*.ipynb``,
    otherwise the newest notebook. Symbolic links are never followed.
    """
    notebooks = [p for p in _regular_files(folder) if p.suffix == ".ipynb"]
    links = sorted(clean(p.name, 100) for p in folder.glob("*.ipynb") if p.is_symlink())
    exact = folder / NOTEBOOK
    others = [p.name for p in notebooks if p != exact]
    link_note = f"ignored {', '.join(links)} (symbolic link)" if links else ""
    if exact in notebooks:
        listed = ", ".join(clean(name, 100) for name in others[:10])
        note = f"graded {NOTEBOOK}; also found {listed} (not graded)" if others else ""
        return exact, "; ".join(n for n in (note, link_note) if n)
    if not notebooks:
        return None, "no notebook in the submission" + (f" ({link_note})" if link_note else "")
    stem = NOTEBOOK.removesuffix(".ipynb").lower()
    likely = [p for p in notebooks if p.stem.lower().startswith(stem)] or notebooks
    chosen = max(likely, key=lambda p: (p.stat().st_mtime, p.name))
    note = f"graded {clean(chosen.name, 100)} (renamed by the student)"
    if len(notebooks) > 1:
        ignored = [clean(p.name, 100) for p in notebooks if p != chosen][:10]
        note += f"; ignored {', '.join(ignored)}"
    return chosen, "; ".join(n for n in (note, link_note) if n)


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise ValueError("a cell's source is neither text nor a list of lines")


def parse_notebook(data: bytes) -> list[Cell]:
    """The cells of a notebook file's bytes; ValueError with a one-line reason if it is not one."""
    if not data.strip():
        raise ValueError("the notebook file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the notebook is not UTF-8 text (byte {exc.start})") from None
    try:
        notebook = json.loads(text)
    except RecursionError:
        raise ValueError("the notebook's JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the notebook is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(notebook, dict):
        raise ValueError("the notebook's JSON is not an object")
    if "worksheets" in notebook or notebook.get("nbformat", 4) != 4:
        version = clean(repr(notebook.get("nbformat")), 40)
        raise ValueError(f"notebook format {version} is not supported (save it with Jupyter)")
    raw_cells = notebook.get("cells")
    if not isinstance(raw_cells, list):
        raise ValueError("the notebook has no list of cells")
    cells, characters = [], 0
    for number, raw in enumerate(raw_cells, 1):
        if not isinstance(raw, dict):
            raise ValueError(f"cell {number} is not an object")
        cell_type = raw.get("cell_type")
        try:
            source = _text(raw.get("source", ""))
        except ValueError as exc:
            raise ValueError(f"cell {number}: {exc}") from None
        characters += len(source)
        if characters > MAX_SOURCE_CHARS:
            raise ValueError(f"the notebook's cells hold more than {MAX_SOURCE_CHARS:,} characters of text")
        metadata = raw.get("metadata")
        nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        cells.append(
            Cell(
                cell_type if cell_type in CELL_TYPES else "raw",
                source,
                nbgrader if isinstance(nbgrader, dict) else {},
            )
        )
    return cells


def read_submission(student: str, folder: Path | None, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Submission:
    """Find and parse the notebook of one submission folder; never raises, whatever the content."""
    try:
        return _read_submission(student, folder, max_bytes)
    except Exception as exc:  # an unforeseen oddity of this folder is this student's problem only
        return Submission(student, folder, problem=f"the submission could not be read ({clean(exc, 150)})")


def _read_submission(student: str, folder: Path | None, max_bytes: int) -> Submission:
    submission = Submission(student, folder)
    if folder is not None and (folder.is_symlink() or folder.parent.is_symlink()):
        submission.problem = "the submission folder is a symbolic link (not followed)"
        return submission
    if folder is None or not folder.is_dir():
        submission.problem = "no assignment folder in the submission"
        return submission
    submission.digest = folder_digest(folder)
    notebook, note = choose_notebook(folder)
    submission.note = note
    if notebook is None:
        submission.problem = note
        submission.note = ""
        return submission
    submission.notebook = notebook
    try:
        fd = os.open(notebook, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        submission.problem = f"the notebook cannot be opened ({exc.strerror})"
        return submission
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        submission.problem = f"the notebook is larger than {max_bytes >> 20} MB"
        return submission
    try:
        submission.cells = parse_notebook(data)
    except ValueError as exc:
        submission.problem = str(exc)
    return submission
