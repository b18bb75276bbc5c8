"""The fault and cheat corpus, graded in ONE batch with correct submissions.

Every entry must get its expected score per function, status and reason;
correct students next to it must still get 40; nothing outside the sandboxes'
scratch copies may change; no sandbox process may outlive the batch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from autograder import tools
from autograder.grader.batch import Options, grade_course
from autograder.grader.gradebook import auto_scores, read_status
from autograder.grader.sandbox import REPO_ROOT, Limits
from tests import corpus

pytestmark = pytest.mark.slow
#: Timeouts decide only the entries that hang forever (the timeout is their behaviour). Every other
#: step of the corpus needs well under a second of CPU; 20 s and 6 s leave a margin of 10x or more
#: for a loaded 2-core machine, and the memory hogs hit their address-space limit without any wait.
LIMITS = Limits(cell_timeout=20, check_timeout=6, startup_timeout=120)
#: Largest graded notebook (bytes): the per-notebook output budget plus the notebook's own text.
GRADED_NOTEBOOK_LIMIT = 16 << 20
GRADER_OUTPUTS = ("gradebook.db", "autograded", ".grading", "feedback", "grades.csv")
NAMES = [e.name for e in corpus.entries(corpus.Context({}, Path(), Path(), port=1))]
IDEMPOTENCE = ["correct_1", "unanswered_release", "hardcoded_outputs", "stripped_metadata", "not_json",
               "missing_notebook", "segfault_in_dropout_backward"]  # fmt: skip


#: Too deep for this file's own tree walks (pathlib and os.walk recurse); the grader's walk is iterative.
DEEP = "deep_folder"


def tree_digest(root: Path, skip: tuple = ()) -> dict[str, str]:
    digests = {}
    paths = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != DEEP]
        paths += [Path(folder, name) for name in dirs + names]
    for path in sorted(paths):
        relative = path.relative_to(root)
        if relative.parts and relative.parts[0] in skip:
            continue
        if path.is_symlink():
            digests[str(relative)] = "link:" + os.readlink(path)
        elif path.is_file():
            digests[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            digests[str(relative)] = "dir"
    return digests


def files_with(marker: str, roots: list[Path], exclude: list[Path], skip=(".git", ".venv")) -> list[str]:
    """Files named with or containing ``marker`` (what every write attempt of the corpus writes).

    ``exclude``: folders holding the hostile notebooks themselves (their source contains the marker).
    """
    found = []
    needle = marker.encode()
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (*skip, DEEP) and Path(folder, d) not in exclude]
            for name in names:
                path = Path(folder, name)
                if marker in name:
                    found.append(str(path))
                    continue
                try:
                    if path.is_file() and path.stat().st_size < 5 << 20 and needle in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    pass
    return found


def processes_with(text: str) -> list[str]:
    """Processes whose command line or environment (sandboxes: their work folder) holds ``text``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in cmdline or text in environ:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory, built_once):
    built_once("corpus")
    root = corpus.make_course(tmp_path_factory.mktemp("corpus") / "course")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    marker = f"GRADER-CORPUS-{os.getpid()}-{os.urandom(4).hex()}"
    ctx = corpus.Context(corpus.release_notebook(root), root, REPO_ROOT, server.getsockname()[1], marker)
    entries = corpus.entries(ctx)
    assert [e.name for e in entries] == NAMES
    for entry in entries:
        corpus.write_submission(entry, ctx)
    targets = [REPO_ROOT / "autograder" / "hidden_checks.py", REPO_ROOT / "Makefile",
               REPO_ROOT / "autograder" / "source" / "regularization" / "Regularization.ipynb"]  # fmt: skip
    before = tree_digest(root, skip=GRADER_OUTPUTS)
    out = io.StringIO()
    results = grade_course(root, Options(jobs=2, limits=LIMITS, stream=out))
    connections = []
    while True:
        try:
            connections.append(server.accept())
        except BlockingIOError:
            break
    server.close()
    yield {
        "root": root, "ctx": ctx, "entries": {e.name: e for e in entries}, "results": {r.student: r for r in results},
        "before": before, "after": tree_digest(root, skip=GRADER_OUTPUTS), "targets": targets,
        "connections": connections, "out": out.getvalue(), "marker": marker,
    }  # fmt: skip
    # pytest's own clean-up of old temp folders recurses (Python 3.11) and cannot remove 1200 levels
    subprocess.run(["rm", "-rf", "--", str(root / "submitted" / DEEP)], check=True)


def entry_mismatches(graded) -> list[str]:
    wrong = []
    for name in NAMES:
        entry, result = graded["entries"][name], graded["results"][name]
        statuses = entry.status if isinstance(entry.status, tuple) else (entry.status,)
        problems = []
        if result.scores != entry.scores:
            problems.append(f"scores {result.scores}")
        if result.status not in statuses:
            problems.append(f"status {result.status}")
        phrase = entry.reason.get(result.status, "") if isinstance(entry.reason, dict) else entry.reason
        if phrase == "" and result.reason != "":
            problems.append("a reason where none was expected")
        if phrase not in " ".join([result.reason, *result.notes]):
            problems.append(f"reason lacks {phrase!r}")
        if entry.shows and entry.shows not in graded_text(graded, name):
            problems.append(f"graded notebook lacks {entry.shows!r}")
        if not result.reason and result.total != 40:
            problems.append("points lost without a reason")
        if problems:
            wrong.append(f"{name}: {'; '.join(problems)} (reason: {result.reason[:200]})")
    return wrong


def graded_text(graded, name: str) -> str:
    return (graded["root"] / "autograded" / name / "regularization" / "Regularization.ipynb").read_text()


def test_every_entry_states_what_must_be_seen():
    """No entry passes vacuously: each names a reason phrase, or an empty reason plus visible evidence."""
    ctx = corpus.Context({}, Path(), Path(), port=1)
    for entry in corpus.entries(ctx):
        assert entry.reason or entry.shows or entry.name in ("deep_folder", "reads_top_level_files"), (
            entry.name
        )


def test_the_corpus_graded_in_one_batch(graded):
    """One test on one batch (the batch is the expensive part; xdist must not run it twice)."""
    mismatches = entry_mismatches(graded)
    assert mismatches == [], "\n".join(mismatches)
    check_gradebook(graded)
    # the course tree (submissions, source, release, config) is byte-for-byte unchanged
    assert graded["after"] == graded["before"]
    check_nothing_leaked(graded)
    assert processes_with("sleep 600") == []  # the lingering daemon died with its sandbox
    assert processes_with(f"reg-grader-{os.getpid()}-") == []
    check_graded_notebooks(graded)
    check_student_text_is_inert(graded)
    for name in NAMES:
        assert name in graded["out"]
    assert f"{len(NAMES)} students:" in graded["out"]
    check_second_run(graded)


def check_gradebook(graded) -> None:
    scores = auto_scores(graded["root"])
    assert sorted(scores) == sorted(NAMES)
    assert all(len(v) == 14 and None not in v for v in scores.values())  # never a silent NULL
    rows = {row["student"]: row for row in tools.grade_rows(graded["root"])}
    for name, result in graded["results"].items():
        assert rows[name]["total"] == result.total


def check_nothing_leaked(graded) -> None:
    """Every write attempt writes the marker: no file outside the hostile notebooks may hold it."""
    marker = graded["marker"]
    roots = [REPO_ROOT, graded["root"], Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
    own = [graded["root"] / "submitted", graded["root"] / "autograded"]
    assert files_with(marker, roots, own) == []
    assert all(path.is_file() for path in graded["targets"])  # deletions failed too
    assert graded["connections"] == []
    notebooks = graded["root"] / "autograded"
    for name in (
        "reads_hidden_tests_and_gradebook",
        "network_exfiltration",
        "reads_top_level_files",
        *corpus.ORACLE_ATTACKS,
    ):
        notebook = json.loads((notebooks / name / "regularization" / "Regularization.ipynb").read_text())
        printed = json.dumps([cell.get("outputs", []) for cell in notebook["cells"]])
        assert "LEAK" not in printed  # what the attacks printed: nothing found, nothing reached
        assert ("network blocked" in printed) == (name == "network_exfiltration")


def check_student_text_is_inert(graded) -> None:
    """Markup a student controls renders as text in feedback; escapes never reach the terminal."""
    from nbconvert.filters import markdown2html

    for name, entry in graded["entries"].items():
        if not entry.extra.get("html"):
            continue
        notebook = json.loads(graded_text(graded, name))
        notes = [c["source"] for c in notebook["cells"] if c["cell_type"] == "markdown"
                 and "grader" in "".join(c["source"])][:1]  # fmt: skip
        assert notes, name
        html = markdown2html("".join(notes[0]))
        assert "<img" not in html, (name, html)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, (name, html)
    assert "\x1b" not in graded["out"]  # no raw escape: ANSI from exception text is shown, not obeyed
    assert "\\x1b[2K" in graded["out"]


def check_graded_notebooks(graded) -> None:
    import nbformat

    folder = graded["root"] / "autograded"
    for name in NAMES:
        path = folder / name / "regularization" / "Regularization.ipynb"
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
        assert path.stat().st_size < GRADED_NOTEBOOK_LIMIT, name
    flood = (folder / "output_flood" / "regularization" / "Regularization.ipynb").read_text()
    assert "more characters of output were cut" in flood
    assert len(flood) < 2_000_000
    shortened = (folder / "correct_1" / "regularization" / "Regularization.ipynb").read_text()
    assert "training shortened" in shortened


def check_second_run(graded) -> None:
    root = graded["root"]
    again = grade_course(root, Options(jobs=2, limits=LIMITS, students=IDEMPOTENCE, stream=io.StringIO()))
    for result in again:
        first = graded["results"][result.student]
        assert (result.scores, result.status) == (first.scores, first.status), result.student
    status = read_status(root)
    assert all(status[name]["status"] != "grading" for name in NAMES)
    assert tree_digest(root, skip=GRADER_OUTPUTS) == graded["before"]
