"""The grader's side of a sandbox: start it, talk to it, bound it in time, end it.

A ``Sandbox`` is one child process tree (see ``harness``) grading one
submission. The grader never blocks on it: ``batch`` polls the socket of
every running sandbox with a selector, feeds datagrams to ``receive`` and
calls ``check_deadline``. Whatever the child sends is checked against the
plan (step numbers, test ids, output counts, output shapes); anything else
ends the sandbox with a reason, and the steps it did not finish score 0.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import bounds, confine, wire
from .bounds import MAX_ENTRIES
from .definitions import definitions_only
from .extract import read_files
from .text import clean, deep_clean

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The command line shows only this; the real bootstrap (with the repo's path) arrives on stdin, so
#: a sandbox reading /proc/1/cmdline learns nothing about where the course lives.
LAUNCHER = "import sys; exec(sys.stdin.buffer.read())"


def bootstrap(call: str) -> bytes:
    """Code that imports ``harness`` from this repo (then forgets the path) and runs ``call``."""
    return (
        f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from autograder.grader import harness\n"
        f"del sys.path[0]\nharness.{call}\n"
    ).encode()


#: Modules every notebook imports; the sandbox imports them before forking (speed only).
PRELOAD = (
    "numpy",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "IPython",
    "IPython.core.interactiveshell",
    "reg_utils",
    "testCases",
)
WORKDIR_PREFIX = "reg-grader-"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox (every process of it) and the grader's patience."""

    memory_mb: int = 2048  # address space per process (RLIMIT_AS)
    sandbox_memory_mb: int = 4096  # memory of the whole sandbox, tmpfs included (cgroup), when available
    cpu_seconds: int = 120  # CPU time per process (RLIMIT_CPU)
    nproc: int = 8  # processes of the sandbox's uid (RLIMIT_NPROC, only with a uid of its own)
    file_mb: int = 64  # largest file a sandbox process may write (RLIMIT_FSIZE)
    tmpfs_mb: int = 256  # the sandbox's private /tmp (cwd and home live there)
    copy_mb: int = 50  # submission files copied into the sandbox
    cell_timeout: float = 20.0  # wall seconds per notebook cell
    check_timeout: float = 10.0  # wall seconds per graded function per hidden test (its calls)
    startup_timeout: float = 60.0  # from launch to the first step
    grace: float = 5.0  # the grader's margin over the sandbox's own timeouts
    total_timeout: float = 900.0  # wall seconds per submission, all steps together


#: How to get isolation where the probe fails; the grader refuses to run until then (fail closed).
ENABLE_ISOLATION = """\
The grader confines every submission with unprivileged Linux user namespaces
(with mount, PID, network and IPC namespaces inside). Enable them, then run again:
  - Debian and older Ubuntu:  sysctl -w kernel.unprivileged_userns_clone=1
  - Ubuntu 23.10 and later (AppArmor):  sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
  - RHEL/CentOS and others:  sysctl -w user.max_user_namespaces=15000
  - in a container: run it with user namespaces allowed (e.g. docker --security-opt seccomp=unconfined)
    or grade in a VM.
Only for submissions you trust: --no-sandbox grades without isolation (every line of the summary says so)."""


def isolation_problem() -> str | None:
    """None when sandboxes can be confined here; otherwise what failed and how to enable it."""
    problem = confine.probe(200_000 + secrets.randbelow(100_000))
    if problem is None:
        return None
    return f"student code cannot be confined on this machine ({problem}).\n{ENABLE_ISOLATION}"


#: Kit modules student code must not reach while it is graded, though their packages stay importable.
#: The judge computes the right cost, gradients and forward values (its hints print them) and the
#: explorer's engine gives the L2 penalty and dW after one training step: either would score a
#: function that does no work. The grader runs the hidden checks and no test cell runs in the
#: sandbox, so nothing there needs them. The sandbox shows ``confine.HIDDEN_STUB`` in their place,
#: and an empty folder over the bytecode caches beside them (compiled copies of the same code).
HIDDEN_MODULES = (
    "testCases.judge",
    "testCases.l2_judge",
    "testCases.dropout_judge",
    "testCases.findings",
    "reg_utils.engine",
)


def hidden_paths() -> list[str]:
    """The source files of ``HIDDEN_MODULES`` and the ``__pycache__`` folders beside them."""
    paths = set()
    for name in HIDDEN_MODULES:
        package, _, module = name.rpartition(".")
        for folder in importlib.util.find_spec(package).submodule_search_locations:
            cache = os.path.join(folder, "__pycache__")
            with contextlib.suppress(OSError):  # made now, or a cache written later would be visible
                os.makedirs(cache, exist_ok=True)
            paths.update((os.path.join(folder, f"{module}.py"), cache))
    return sorted(paths)


def kit_paths() -> list[str]:
    """Folders the sandboxed Python must read: interpreter, venv and the kit's packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for name in ("reg_utils", "testCases", "reg_utils.datasets"):
        spec = importlib.util.find_spec(name)
        paths.update(spec.submodule_search_locations or [] if spec else [])
    return sorted(p for p in paths if p)


def _copy_submission(folder: Path | None, target: Path, budget: int, files: int = MAX_ENTRIES) -> None:
    """Copy a submission's regular files and folders (no links, no devices) within a byte and file budget.

    The tree is read by ``extract.read_files`` (bounded depth and entries, no
    recursion); what does not fit is left out.
    """
    target.mkdir(parents=True)
    if folder is None:
        return
    for relative, data in read_files(folder, budget, entries=files):
        if data is None:
            (target / relative).mkdir()
        else:
            (target / relative).write_bytes(data)


class Cgroup:
    """A memory and process-count ceiling for a whole sandbox tree (cgroup v1 or v2), best effort.

    RLIMIT_AS bounds each process; only a cgroup bounds their sum (and the
    private tmpfs). The grader creates the group under its own; the sandbox's
    first process joins it before anything else, and every descendant inherits it.
    """

    ROOT = Path("/sys/fs/cgroup")
    PREFIX = "reg-grader-"

    def __init__(self, folders: list[Path]):
        self.folders = folders

    @property
    def procs(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders]

    @classmethod
    def _own(cls) -> dict[str, str]:
        """controller (or "" for v2) -> this process's cgroup path."""
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
        return own

    @classmethod
    def create(cls, name: str, memory_bytes: int, pids: int) -> Cgroup | None:
        try:
            own = cls._own()
        except (OSError, ValueError):
            return None
        folders = []
        try:
            if (cls.ROOT / "memory").is_dir() and "memory" in own:  # v1
                for controller, limits in (("memory", {"memory.limit_in_bytes": memory_bytes}),
                                           ("pids", {"pids.max": pids})):  # fmt: skip
                    if controller not in own or not (cls.ROOT / controller).is_dir():
                        continue
                    folder = cls.ROOT / controller / own[controller].lstrip("/") / name
                    folder.mkdir()
                    folders.append(folder)
                    for file, value in limits.items():
                        (folder / file).write_text(str(value))
            elif "memory" in (cls.ROOT / "cgroup.controllers").read_text().split():  # v2
                folder = cls.ROOT / own[""].lstrip("/") / name
                folder.mkdir()
                folders.append(folder)
                (folder / "memory.max").write_text(str(memory_bytes))
                (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(pids))
        except OSError:
            cls(folders).remove()
            return None
        return cls(folders) if folders else None

    def remove(self) -> bool:
        """Remove the groups (they must be empty); False if some are still busy."""
        done = True
        for folder in reversed(self.folders):
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                done = False
        return done

    @classmethod
    def clean_stale(cls) -> None:
        """Remove empty groups left by graders that were killed."""
        try:
            own = cls._own()
        except (OSError, ValueError):
            return
        for controller, path in own.items():
            base = cls.ROOT / controller / path.lstrip("/") if controller else cls.ROOT / path.lstrip("/")
            for folder in base.glob(f"{cls.PREFIX}*") if base.is_dir() else []:
                pid = folder.name[len(cls.PREFIX) :].split("-")[0]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    with contextlib.suppress(OSError):
                        folder.rmdir()


def clean_stale_workdirs() -> None:
    """Remove work folders (and cgroups) left by graders that were killed (their pid is gone)."""
    Cgroup.clean_stale()
    base = Path(tempfile.gettempdir())
    for folder in base.glob(f"{WORKDIR_PREFIX}*"):
        try:
            pid = int(folder.name[len(WORKDIR_PREFIX) :].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def sandbox_environment(home: str, mpl_cache: str | None) -> dict:
    """The whole environment of a sandbox: built from scratch, nothing inherited from the grader."""
    venv_bin = os.path.dirname(sys.executable)
    env = {
        "PATH": os.pathsep.join([venv_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb", "HOME": home,
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # reg_utils.training_iterations shortens the ungraded 30000-iteration training runs
        "NBGRADER_EXECUTION": "autograde",
    }  # fmt: skip
    if mpl_cache:
        env["MPLCONFIGDIR"] = mpl_cache  # the font list is loaded, not rebuilt
    return env


class Zygote:
    """The grader's handle on the fork server (``harness.zygote``): sandboxes start preloaded.

    Saves every sandbox the ~1 s of importing NumPy, matplotlib, IPython and the
    kit, and the making of its IPython shell. If the server cannot be started or
    stops answering, ``spawn`` returns None and sandboxes are started as fresh
    processes instead.
    """

    def __init__(self, workdir: Path, mpl_cache: str | None, timeout: float = 60.0):
        self.timeout = timeout
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        home = workdir / "zygote-home"
        home.mkdir(exist_ok=True)
        with open(workdir / "zygote-log.txt", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=log, stderr=log,
                cwd=workdir, env=sandbox_environment(str(home), mpl_cache), pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )  # fmt: skip
        self.process.stdin.write(bootstrap(f"zygote({theirs.fileno()}, {os.getpid()}, {list(PRELOAD)!r})"))
        self.process.stdin.close()
        theirs.close()
        self.control = ours
        self.broken = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def spawn(self, job_path: Path, sock: socket.socket, log_fd: int) -> tuple[int, int] | None:
        """Fork a sandbox; (pid, pidfd), or None when the fork server is unusable."""
        if self.broken:
            return None
        try:
            self.control.settimeout(self.timeout)
            socket.send_fds(self.control, [str(job_path).encode()], [sock.fileno(), log_fd])
            message, fds, _, _ = socket.recv_fds(self.control, 64, 1)
            if not message or len(fds) != 1:
                raise OSError("the fork server did not answer")
            return int(message), fds[0]
        except (OSError, ValueError):
            self.broken = True
            return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.control.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()


@dataclass
class Sandbox:
    """One submission's run: the job it was given and what came back."""

    student: str
    steps: list[dict]  # as in plan.Plan.steps, check steps with their wire calls
    folder: Path | None
    workdir: Path
    limits: Limits
    isolate: bool = True
    mpl_cache: str | None = None
    zygote: Zygote | None = None
    # what came back
    hello: dict | None = None
    cells: dict = field(default_factory=dict)  # step -> (outputs, execution_count)
    checks: dict = field(default_factory=dict)  # grade_id -> list of wire outputs
    faults: dict = field(default_factory=dict)  # step -> how it failed
    stop: str | None = None  # why the sandbox ended early, if it did
    done: bool = False

    def start(self) -> None:
        for step in self.steps:  # the checkpoint's budget per step; the grader adds its grace
            if step["kind"] == "cell":
                step["timeout"] = self.limits.cell_timeout
                step["inert"] = definitions_only(step["source"])  # may run without a fork
            else:
                functions = {call["f"] for call in step["calls"]}
                step["timeout"] = self.limits.check_timeout * len(functions) + 1.0
        self.scratch = self.workdir / f"{len(list(self.workdir.iterdir())):03d}-{secrets.token_hex(6)}"
        _copy_submission(self.folder, self.scratch / "files", self.limits.copy_mb << 20)
        (self.scratch / "home").mkdir()
        self.cgroup = None
        if self.isolate:
            name = f"{Cgroup.PREFIX}{os.getpid()}-{self.scratch.name}"
            self.cgroup = Cgroup.create(name, self.limits.sandbox_memory_mb << 20, self.limits.nproc + 8)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        job = {
            "student": self.student,
            "socket_fd": theirs.fileno(),
            "parent_pid": os.getpid(),
            "isolate": self.isolate,
            "uid": 200_000 + secrets.randbelow(100_000),
            "scratch": str(self.scratch),
            "keep": kit_paths(),
            "hide": hidden_paths(),
            "limits": asdict(self.limits),
            "preload": list(PRELOAD),
            "steps": self.steps,
            "cgroups": self.cgroup.procs if self.cgroup else [],
        }
        job_path = self.scratch / "job.json"
        job_path.write_text(wire.dumps(job).decode("utf-8"), encoding="utf-8")
        self.log_path = self.scratch / "log.txt"
        self.process, self.pidfd = None, None
        with open(self.log_path, "wb") as log:
            spawned = self.zygote.spawn(job_path, theirs, log.fileno()) if self.zygote else None
            if spawned is not None:
                self.pid, self.pidfd = spawned
            else:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=log, stderr=log,
                    env=sandbox_environment(str(self.scratch / "home"), self.mpl_cache),
                    cwd=self.scratch, pass_fds=(theirs.fileno(),), start_new_session=True,
                )  # fmt: skip
                self.process.stdin.write(bootstrap(f"main({str(job_path)!r})"))
                self.process.stdin.close()
                self.pid = self.process.pid
        theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.receiver = wire.Receiver()
        self.output_budget = bounds.NOTEBOOK_OUTPUT_BYTES
        self.started = self.event = time.monotonic()
        self.current: int | None = None

    def fileno(self) -> int:
        return self.sock.fileno()

    # ------------------------------------------------------------ messages

    def receive(self) -> None:
        """Read every datagram waiting on the socket and act on the messages they complete."""
        while not self.done:
            try:
                datagram = self.sock.recv(wire.CHUNK + 64)
            except BlockingIOError:
                return
            except OSError as exc:
                self.finish(f"the connection to the sandbox failed ({exc.strerror})")
                return
            if not datagram:
                self.finish("the sandbox ended before finishing the notebook" + self._log_hint())
                return
            try:
                message = self.receiver.feed(datagram)
                if message is not None:
                    self._handle(message)
            except Exception as exc:  # whatever the data, it ends this sandbox only
                detail = exc if isinstance(exc, wire.WireError) else f"{type(exc).__name__}: {exc}"
                self.finish(
                    "the sandbox sent malformed data"
                    f" ({clean(detail, 150)}); the notebook interfered with the grader"
                )

    def _handle(self, message: dict) -> None:
        kind, now = message["t"], time.monotonic()
        self.event = now
        if kind == "hello":
            if self.hello is not None:
                raise wire.WireError("second hello")
            self.hello = _checked_hello(message)
            if self.hello.get("error"):
                self.finish(clean(self.hello["error"]))
            return
        if self.hello is None:
            raise wire.WireError(f"{kind} before hello")
        if kind == "end":
            self.finish(None)
            return
        k = message.get("k")
        if not isinstance(k, int) or not 0 <= k < len(self.steps):
            raise wire.WireError("bad step number")
        if kind == "step":
            if self.current is not None and k <= self.current:
                raise wire.WireError("steps out of order")
            self.current = k
            return
        if k != self.current:
            raise wire.WireError("result for a step that is not running")
        step = self.steps[k]
        if kind == "cell" and step["kind"] == "cell" and k not in self.cells:
            count = message.get("count")
            outputs, used = sanitize_outputs(message.get("outputs"), self.output_budget)
            self.output_budget -= used
            self.cells[k] = (outputs, count if isinstance(count, int) else None)
        elif kind == "check" and step["kind"] == "check" and message.get("id") == step["id"]:
            if step["id"] in self.checks:
                raise wire.WireError("second result for a test")
            self.checks[step["id"]] = message.get("outputs")
        elif kind == "fault":
            self.faults.setdefault(k, clean(message.get("how", "failed")))
        else:
            raise wire.WireError(f"unexpected {kind} message")

    # ------------------------------------------------------------ time

    def deadline(self) -> float:
        """When the grader stops waiting for the sandbox's next sign of progress."""
        if self.hello is None or self.current is None:
            budget = self.limits.startup_timeout
        else:
            budget = self.steps[self.current]["timeout"]
        return min(self.event + budget + self.limits.grace, self.started + self.limits.total_timeout)

    def check_deadline(self, now: float) -> None:
        if self.done or now < self.deadline():
            return
        if now >= self.started + self.limits.total_timeout:
            self.finish(f"the notebook used up the grader's {self.limits.total_timeout:g} s per submission")
        elif self.current is None:
            self.finish("the sandbox did not start in time" + self._log_hint())
        else:
            self.faults.setdefault(self.current, "stopped responding")
            self.finish("the sandbox stopped responding")

    # ------------------------------------------------------------ the end

    def _log_hint(self) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(max(0, os.path.getsize(self.log_path) - 400))
                tail = handle.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return f" ({tail[-1][:200]})" if tail else ""

    def finish(self, reason: str | None) -> None:
        """Mark the run over (``reason``: why it ended early) and end every process of the sandbox."""
        if self.done:
            return
        self.done, self.stop = True, reason
        self.kill()

    def kill(self) -> None:
        """SIGKILL S0: S1, pid 1 of the sandbox's PID namespace, dies with it, and the kernel kills the rest.

        Without namespaces, S0's process group is the best handle there is.
        """
        if getattr(self, "pid", None) is None:
            return
        isolated = bool(self.hello and self.hello["isolation"]["namespaces"])
        if not isolated and (self.process is None or self.process.poll() is None):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.pidfd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            select.select([self.pidfd], [], [], 5.0)  # readable once S0 has exited
            os.close(self.pidfd)
            self.pidfd = None
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        self.sock.close()

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(getattr(self, "scratch", self.workdir / "-"), ignore_errors=True)
        cgroup = getattr(self, "cgroup", None)
        if cgroup is not None:
            for _ in range(50):  # the namespace's last processes die a moment after S0
                if cgroup.remove():
                    break
                time.sleep(0.02)


_OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


def _checked_hello(message: dict) -> dict:
    """The first message's fields, each of the type the grader relies on (WireError otherwise)."""
    isolation = message.get("isolation", {})
    notes = message.get("notes", [])
    error = message.get("error")
    if not (
        isinstance(isolation, dict)
        and isinstance(isolation.get("namespaces", False), bool)
        and isinstance(notes, list)
        and (error is None or isinstance(error, str))
    ):
        raise wire.WireError("a hello with fields of the wrong type")
    return {
        "isolation": {"namespaces": isolation.get("namespaces", False), "uid": isolation.get("uid")},
        "notes": [clean(n, 200) for n in notes[:20]],
        "error": error,
    }


_CUT_NOTE = "[grader: the outputs of this {what} exceeded {mb:g} MB; later outputs were dropped]\n"


def sanitize_outputs(outputs, budget: int = bounds.NOTEBOOK_OUTPUT_BYTES) -> tuple[list[dict], int]:
    """Well-formed nbformat outputs of the kinds the harness produces, within the cell and notebook budgets.

    Returns the outputs kept and the bytes they use; ``budget`` is what is left of
    the notebook's. Every string is made encodable (no lone surrogates).
    """
    kept: list[dict] = []
    if not isinstance(outputs, list):
        return kept, 0
    notebook_left, budget = budget, min(budget, bounds.CELL_OUTPUT_BYTES)
    used = 0
    for output in outputs[: bounds.CELL_OUTPUTS]:
        if not isinstance(output, dict) or output.get("output_type") not in _OUTPUT_TYPES:
            continue
        kind = output["output_type"]
        if kind == "stream":
            text, name = output.get("text"), output.get("name")
            if not (isinstance(text, str) and name in ("stdout", "stderr")):
                continue
            entry = {"output_type": "stream", "name": name, "text": text}
        elif kind == "error":
            traceback = output.get("traceback")
            traceback = [str(t) for t in traceback] if isinstance(traceback, list) else []
            entry = {
                "output_type": "error",
                "ename": str(output.get("ename", "Error")),
                "evalue": str(output.get("evalue", "")),
                "traceback": traceback,
            }
        else:  # display_data, execute_result
            data = output.get("data") if isinstance(output.get("data"), dict) else {}
            bundle = {
                k: v for k, v in data.items() if k in ("text/plain", "image/png") and isinstance(v, str)
            }
            png = bundle.get("image/png", "")
            if png and not _is_base64(png):
                del bundle["image/png"]
            if not bundle:
                continue
            entry = {"output_type": kind, "data": bundle, "metadata": {}}
            if kind == "execute_result":
                count = output.get("execution_count")
                entry["execution_count"] = count if isinstance(count, int) else None
        entry = deep_clean(entry)
        size = len(wire.dumps(entry))
        if used + size > budget:
            whole = budget == notebook_left  # the notebook's budget binds: later cells keep nothing
            what, limit = ("notebook", bounds.NOTEBOOK_OUTPUT_BYTES) if whole else ("cell", budget)
            note = _CUT_NOTE.format(what=what, mb=limit / (1 << 20))
            kept.append({"output_type": "stream", "name": "stderr", "text": note})
            return kept, (notebook_left if whole else used)
        used += size
        kept.append(entry)
    return kept, used


def _is_base64(text: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9+/=\s]*", text) is not None
