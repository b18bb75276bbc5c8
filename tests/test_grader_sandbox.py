"""What student code sees inside the sandbox: no network, no course, no root, limits in place."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

from autograder.grader.confine import HIDDEN_STUB, SANDBOX_UID, SYSTEM_ENTRIES
from autograder.grader.extract import parse_notebook
from autograder.grader.judge import Calls, judge
from autograder.grader.plan import Assignment, plan
from autograder.grader.sandbox import HIDDEN_MODULES, REPO_ROOT, Cgroup, Limits, Sandbox, kit_paths
from autograder.reference import SOURCE_NOTEBOOK
from autograder.tools import COURSE_ROOT, STUDENT_RELEASE
from tests import corpus

PROBE = r"""
import json, os, resource, socket, sys
facts = {"uid": os.getuid(), "euid": os.geteuid(), "cwd": os.getcwd(), "cwd_files": sorted(os.listdir("."))}
facts["repo"] = sorted(os.listdir(REPO)) if os.path.isdir(REPO) else None
facts["course"] = sorted(os.listdir(COURSE)) if os.path.isdir(COURSE) else None
facts["tmp"] = sorted(os.listdir("/tmp"))
def attempt(action):
    try:
        action()
        return "ok"
    except BaseException as exc:
        return type(exc).__name__
def walk(top):  # every file visible below a folder, with its path
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs)[:50]
facts["root"] = sorted(os.listdir("/"))
facts["top_level"] = {name: walk("/" + name) for name in os.listdir("/")
                      if name not in SYSTEM and os.path.isdir("/" + name) and not os.path.islink("/" + name)
                      and name not in ("tmp", "proc", "dev")}
facts["top_files"] = {name: attempt(lambda: open("/" + name, "rb").read(1)) for name in TOP_FILES}
facts["dev"] = sorted(os.listdir("/dev"))
facts["dev_null"] = attempt(lambda: open("/dev/null", "w").write("x"))
def unmount(path):  # what would uncover the machine, if anything could
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(path.encode(), 2) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
facts["unmount"] = attempt(lambda: unmount("/tmp"))
facts["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
facts["env"] = sorted(os.environ)
facts["nbgrader_execution"] = os.environ.get("NBGRADER_EXECUTION")
facts["rlimit_as"] = resource.getrlimit(resource.RLIMIT_AS)[0]
facts["rlimit_nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
facts["modules"] = sorted(m for m in sys.modules if m.startswith("autograder"))
facts["cgroup"] = open("/proc/self/cgroup").read()
def attempt(action):
    try:
        action()
        return "ok"
    except BaseException as exc:
        return type(exc).__name__
facts["connect"] = attempt(lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2).close())
facts["read_shadow"] = attempt(lambda: open("/etc/shadow").read())
facts["write_venv"] = attempt(lambda: open(os.path.join(sys.prefix, "pwned"), "w"))
facts["write_etc"] = attempt(lambda: open("/etc/pwned", "w"))
facts["import_checks"] = attempt(lambda: __import__("autograder.hidden_checks"))
def hidden(name):  # a kit module hidden from student code: what importing and reading it give
    package, _, module = name.rpartition(".")
    folder = os.path.dirname(__import__(package).__file__)
    with open(os.path.join(folder, module + ".py"), encoding="utf-8") as handle:
        text = handle.read()
    return {"loaded": name in sys.modules, "import": attempt(lambda: getattr(__import__(name, fromlist=["x"]), "x")),
            "text": text[:300], "cache": sorted(os.listdir(os.path.join(folder, "__pycache__")))[:5]}
facts["hidden"] = {name: hidden(name) for name in HIDDEN}
facts["setuid_root"] = attempt(lambda: os.setuid(0))
facts["write_root"] = attempt(lambda: open("/pwned", "w"))
facts["write_cwd"] = attempt(lambda: open("scratch.txt", "w").write("mine"))
print("FACTS" + json.dumps(facts))
"""


def run_sandbox(notebook: dict, limits: Limits, isolate: bool, tmp_path: Path):
    assignment = Assignment.load(SOURCE_NOTEBOOK, STUDENT_RELEASE)
    result = plan(parse_notebook(corpus.dumps(notebook)), assignment)
    calls = Calls.build()
    steps = [dict(s, calls=calls.wire_form[s["id"]]) if s["kind"] == "check" else s for s in result.steps]
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "Regularization.ipynb").write_bytes(corpus.dumps(notebook))
    # as the batch does: a private folder in the system's temp dir (a root grader without namespaces
    # lets the sandbox's uid pass through it; pytest's own folders are closed to other uids)
    work = Path(tempfile.mkdtemp(prefix="reg-grader-test-"))
    sandbox = Sandbox("probe", steps, folder, work, limits, isolate)
    sandbox.start()
    selector = selectors.DefaultSelector()
    selector.register(sandbox.sock, selectors.EVENT_READ)
    try:
        while not sandbox.done:
            selector.select(1.0)
            sandbox.receive()
            sandbox.check_deadline(time.monotonic())
    finally:
        selector.close()
        sandbox.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    verdicts = {gid: judge(gid, outputs, calls) for gid, outputs in sandbox.checks.items()}
    return sandbox, verdicts


def facts_of(sandbox) -> dict:
    for outputs, _ in sandbox.cells.values():
        for output in outputs:
            if output.get("name") == "stdout" and "FACTS" in output.get("text", ""):
                return json.loads(output["text"].split("FACTS", 1)[1])
    raise AssertionError(f"no probe output; stop={sandbox.stop} faults={sandbox.faults}")


@pytest.fixture(scope="module")
def ctx() -> corpus.Context:
    return corpus.Context(json.loads(STUDENT_RELEASE.read_text(encoding="utf-8")), COURSE_ROOT, REPO_ROOT)


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def isolated(ctx, listener, tmp_path_factory):
    probe = PROBE.replace("REPO", repr(str(REPO_ROOT))).replace("COURSE", repr(str(COURSE_ROOT)))
    probe = probe.replace("SYSTEM", repr(sorted(SYSTEM_ENTRIES)))
    probe = probe.replace("TOP_FILES", repr(HOST_TOP_FILES))
    probe = probe.replace("PORT", str(listener.getsockname()[1]))
    probe = probe.replace("HIDDEN", repr(HIDDEN_MODULES))
    notebook = corpus.insert_after(corpus.answered(ctx), "imports", corpus.code_cell(probe))
    limits = Limits(memory_mb=1536, nproc=6)
    return run_sandbox(notebook, limits, True, tmp_path_factory.mktemp("isolated"))


#: Regular files at the top of the host's / (a container has some): none may be readable inside.
HOST_TOP_FILES = sorted(e.name for e in os.scandir("/") if e.is_file(follow_symlinks=False))


def test_what_student_code_sees_inside_the_sandbox(isolated, listener):
    """One probe cell, many facts (one test: the sandbox run is shared by every assertion)."""
    sandbox, verdicts = isolated
    assert sandbox.hello["isolation"]["namespaces"] is True
    assert sandbox.stop is None
    assert sandbox.faults == {}
    assert len(verdicts) == 14
    assert all(v is None for v in verdicts.values())
    facts = facts_of(sandbox)
    # unprivileged (uid 1000 of a user namespace of its own), in a scratch copy of its own
    assert facts["uid"] == facts["euid"] == SANDBOX_UID
    assert sandbox.hello["isolation"]["uid"] == SANDBOX_UID
    assert facts["setuid_root"] in ("OSError", "PermissionError")  # uid 0 does not even exist there
    assert facts["unmount"] == "PermissionError"  # no capability over the mounts that hide the machine
    assert facts["cwd"] == "/tmp/submission"
    assert facts["cwd_files"] == ["Regularization.ipynb"]
    assert facts["write_cwd"] == "ok"
    # (a repo that lives under /tmp leaves the mountpoints of its venv and kit there, empty but for those)
    mountpoints = {Path(p).relative_to("/tmp").parts[0] for p in kit_paths() if p.startswith("/tmp/")}
    assert set(facts["tmp"]) - mountpoints == {"home", "submission"}
    # deny by default, files as well as folders: / holds the system folders, the kit's mountpoints,
    # /tmp, /dev and /proc, and nothing else
    kit_tops = {Path(p).parts[1] for p in kit_paths()}
    system = {name for name in SYSTEM_ENTRIES if os.path.lexists("/" + name)}
    assert set(facts["root"]) == system | kit_tops | {"tmp", "dev", "proc"}
    assert HOST_TOP_FILES  # the check below must have something to check (true in CI's container)
    assert set(facts["top_files"].values()) == {"FileNotFoundError"}, facts["top_files"]
    assert facts["write_root"] in ("OSError", "PermissionError")  # a read-only root
    assert set(facts["dev"]) == {"null", "zero", "full", "random", "urandom",
                                 "fd", "stdin", "stdout", "stderr", "shm"}  # fmt: skip
    assert facts["dev_null"] == "ok"
    # outside the system folders, only files of the interpreter, venv and kit exist
    kept = tuple(p.rstrip("/") + "/" for p in kit_paths())
    for name, files in facts["top_level"].items():
        assert all(f.startswith(kept) for f in files), (
            name,
            [f for f in files if not f.startswith(kept)][:5],
        )
    assert facts["write_venv"] == "OSError"  # read-only, even where the grader's uid owns the venv
    assert facts["write_etc"] in ("OSError", "PermissionError")
    assert facts["read_shadow"] == "PermissionError"
    # the course, the repo and the hidden checks are out of reach
    assert facts["course"] is None  # the course folder is not even there
    assert set(facts["repo"]) <= {".venv", "reg_utils", "testCases", "datasets"}  # only what Python needs
    assert facts["import_checks"] == "ModuleNotFoundError"
    assert not {"autograder.hidden_checks", "autograder.reference"} & set(facts["modules"])
    # the kit's oracles (judge, engine) are stubs there, their bytecode caches empty, none preloaded
    assert sorted(facts["hidden"]) == sorted(HIDDEN_MODULES)
    for name, seen in facts["hidden"].items():
        assert seen == {"loaded": False, "import": "ImportError", "text": HIDDEN_STUB[:300], "cache": []}, (
            name
        )
    # no network, not even loopback: nothing reached the listener
    assert facts["connect"] in ("OSError", "ConnectionRefusedError")
    with pytest.raises(BlockingIOError):
        listener.accept()
    # limits, environment and process view
    assert facts["rlimit_as"] == 1536 << 20
    assert facts["rlimit_nproc"] == 6
    assert facts["nbgrader_execution"] == "autograde"
    assert not {"PYTHONPATH", "JUPYTER_CONFIG_PATH", "SSH_AUTH_SOCK"} & set(facts["env"])
    assert max(facts["pids"]) < 50  # its own PID namespace: the grader's processes are invisible
    probe = Cgroup.create(f"{Cgroup.PREFIX}{os.getpid()}-probe", 1 << 30, 10)
    if probe is not None:  # where the machine offers cgroups, the sandbox's memory is capped as a whole
        probe.remove()
        assert "reg-grader-" in facts["cgroup"]


def test_without_isolation_the_grades_are_the_same(ctx, tmp_path):
    sandbox, verdicts = run_sandbox(corpus.answered(ctx), Limits(), False, tmp_path)
    assert sandbox.hello["isolation"]["namespaces"] is False
    assert sandbox.hello["isolation"]["uid"] != 0  # student code never runs as root, even unconfined
    assert len(verdicts) == 14
    assert all(v is None for v in verdicts.values())


def test_a_hang_and_a_crash_cost_only_their_own_test(ctx, tmp_path):
    """The finite-difference test calls two functions: a hanging cost must not sink the backward pass.

    The check timeout is the behaviour here; 8 s is far above what the correct calls need even on a
    loaded machine (milliseconds), so only the infinite loop can reach it.
    """
    hang = corpus.wrapped(ctx, corpus.COST, corpus._LOOP_UNLESS_NOTEBOOK_LAMBD)
    crash = corpus.wrapped(ctx, corpus.DROP_BACKWARD, "import ctypes\nctypes.string_at(0)")
    notebook = corpus.answered(ctx, {corpus.COST: hang, corpus.DROP_BACKWARD: crash})
    sandbox, verdicts = run_sandbox(notebook, Limits(check_timeout=8.0), True, tmp_path)
    failed = {gid for gid, verdict in verdicts.items() if verdict is not None}
    assert failed == {"l2_cost_fixture", "l2_cost_fresh_inputs", "l2_cost_penalty_terms",
                      "dropout_backward_fixture", "dropout_backward_fresh_inputs",
                      "dropout_backward_cached_masks"}  # fmt: skip
    assert "did not return within 8 s" in verdicts["l2_cost_fresh_inputs"]
    assert "segmentation fault" in verdicts["dropout_backward_fixture"]
    assert verdicts["l2_backward_finite_differences"] is None
