"""The sandbox side: runs ONE submission's code in an isolated, limited child process tree.

The grader starts a fork server (``zygote``) per batch, which imports NumPy,
matplotlib, IPython and the kit and makes the IPython shell once, then forks
one S0 per submission (or the grader starts S0 as a fresh ``python -I``).
This module must stay importable without the rest of the ``autograder``
package: it never sees the hidden
checks, the reference solutions or the gradebook, only the job (cells to run,
call inputs as plain data) and the submission's files. Process tree (the
namespace steps are explained in ``confine``)::

    S0  (host namespaces; a root grader's S0 takes a fresh uid)  joins the cgroup, maps C's uid
     `- C  (new user, mount, PID, network, IPC namespaces)  opens what the sandbox may see
         `- S1  (pid 1 of the PID namespace)  builds the new root, copies the submission, reaps
             `- E  (nested user namespace, uid 1000, limits)  the step chain below

With ``--no-sandbox`` there is no C: S0 forks S1 directly, and S1 only reaps.

The step chain runs the notebook's code cells in order; at each hidden test
cell it runs that test's calls. Student code never runs in the *checkpoint*,
the process holding the state from before the step:

- a cell runs in a forked *runner*; one that completes hands over (the runner
  becomes the next checkpoint); one that crashes the process or overruns its
  time is killed and reported, and the checkpoint goes on with the next step,
  as if the cell had not run. A cell of plain function definitions evaluates
  nothing and runs in the checkpoint (``definitions``), unless the notebook
  rewired its shell;
- the calls of each graded function in a test (a *group*) run in a forked
  *caller*, which serves the groups of consecutive tests one at a time, each
  with its own deadline; an infinite loop or a crash costs that group's calls
  only, and a new caller takes the next group. A fork of this process costs
  tens of milliseconds, more than most calls, so a caller also outlives its run
  of tests while only definition cells come next: it runs them too, and serves
  the following run.

Messages go to the grader over one ``SOCK_SEQPACKET`` socket (see ``wire``).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
import time

from . import bounds, confine, wire
from .confine import PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG

#: MIME types kept from display outputs; anything else (HTML, JavaScript) is dropped.
KEPT_MIME = ("text/plain", "image/png")
TEXT_LIMIT = bounds.CELL_TEXT_CHARS  # characters of stream output kept per cell
DISPLAY_LIMIT = bounds.CELL_IMAGE_BYTES  # bytes of base64 image data kept per cell

# The chain's own tools, bound before any submission code can replace them.
_fork, _exit, _kill, _waitpid, _pipe = os.fork, os._exit, os.kill, os.waitpid, os.pipe
_read, _write, _close, _select = os.read, os.write, os.close, select.select
_monotonic = time.monotonic


# ------------------------------------------------------------- plain values


def perform(call: dict, namespace: dict, room: int = bounds.MAX_RETURN_BYTES) -> bytes:
    """Run one call on freshly decoded inputs; the JSON text of its encoded plain output or fault.

    A result larger than ``room`` bytes of that text is a fault of this call only. The
    text is made once here and passed on as it is, up to the grader.
    """
    function = namespace.get(call["f"])
    if not callable(function):
        return wire.dumps(wire.encode(wire.Fault("NameError", f"{call['f']} is not defined")))
    try:
        args, kwargs = wire.decode(call["args"]), wire.decode(call["kwargs"])
        plain = wire.to_plain(function(*args, **kwargs))
        size = _least_size(plain)  # far too large: said without encoding megabytes first
        if size <= room:
            text = wire.dumps(wire.encode(plain))
            size = len(text)
    except BaseException as exc:
        return wire.dumps(wire.encode(wire.Fault(type(exc).__name__, str(exc)[:300])))
    if size > room:
        megabytes, limit = size / (1 << 20), min(room, bounds.MAX_RETURN_BYTES) / (1 << 20)
        message = f"the returned value takes {megabytes:.1f} MB; at most {limit:g} MB is accepted"
        return wire.dumps(wire.encode(wire.Fault("TooLarge", message)))
    return text


def _least_size(value, depth: int = 0) -> int:
    """At most the encoded size of a plain value: the base64 text of its arrays, counted, not made."""
    import numpy

    if depth > 10:  # deeper than the wire carries: encoding says no anyway
        return 0
    if isinstance(value, numpy.ndarray):
        return 4 * ((value.nbytes + 2) // 3)
    if isinstance(value, tuple | list):
        return sum(_least_size(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return sum(_least_size(item, depth + 1) for item in value.values())
    return 0


# --------------------------------------------------------- output recording


class Recorder:
    """Collects one cell's outputs as nbformat dicts, with size caps."""

    def __init__(self):
        self.outputs: list[dict] = []
        self.dropped_text = 0
        self.text = 0
        self.images = 0

    def stream(self, name: str, text: str) -> None:
        room = TEXT_LIMIT - self.text
        if room <= 0:
            self.dropped_text += len(text)
            return
        if len(text) > room:
            self.dropped_text += len(text) - room
            text = text[:room]
        self.text += len(text)
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def _bundle(self, data) -> dict:
        bundle = {}
        if not isinstance(data, dict):
            return bundle
        text = data.get("text/plain")
        if isinstance(text, str):
            bundle["text/plain"] = text[:5000]
        png = data.get("image/png")
        if isinstance(png, bytes):
            import base64

            png = base64.b64encode(png).decode("ascii")
        if isinstance(png, str) and self.images + len(png) <= DISPLAY_LIMIT:
            self.images += len(png)
            bundle["image/png"] = png
        return bundle

    def display(self, data) -> None:
        bundle = self._bundle(data)
        if bundle:
            self.outputs.append({"output_type": "display_data", "data": bundle, "metadata": {}})

    def result(self, data, count) -> None:
        bundle = self._bundle(data)
        if bundle:
            self.outputs.append(
                {"output_type": "execute_result", "data": bundle, "metadata": {}, "execution_count": count}
            )

    def error(self, ename: str, evalue: str, traceback: list) -> None:
        lines = [str(line)[:2000] for line in (traceback or [])][:60]
        self.outputs.append(
            {
                "output_type": "error",
                "ename": str(ename)[:200],
                "evalue": str(evalue)[:2000],
                "traceback": lines,
            }
        )

    def finish(self) -> list[dict]:
        if self.dropped_text:
            self.stream("stderr", "")  # keep order: the note closes the stream outputs
            self.outputs.append(
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": f"\n[grader: {self.dropped_text} more characters of output were cut]\n",
                }
            )
        return self.outputs


class _Stream:
    """A text stream that feeds a Recorder (sys.stdout / sys.stderr during a cell)."""

    encoding, errors = "utf-8", "strict"

    def __init__(self, recorder_ref, name):
        self._ref, self.name = recorder_ref, name

    def write(self, text):
        if not isinstance(text, str):
            text = str(text)
        recorder = self._ref()
        if recorder is None:
            pass
        elif recorder.text >= TEXT_LIMIT:  # the fast path of an output flood
            recorder.dropped_text += len(text)
        else:
            recorder.stream(self.name, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError(errno.EBADF, "no file descriptor for notebook output")


def make_shell(state):
    """An IPython shell (no kernel) whose outputs go to ``state.recorder``."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            if state.recorder is not None:
                state.recorder.display(data)

        def clear_output(self, wait=False):
            pass

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            if state.recorder is not None:
                state.recorder.result(format_dict, self.prompt_count)

        def finish_displayhook(self):
            pass

    class GradingShell(InteractiveShell):
        display_pub_class = Publisher
        displayhook_class = Hook

        def enable_gui(self, gui=None):
            return None

        def _showtraceback(self, etype, evalue, stb):
            if state.recorder is not None:
                name = getattr(etype, "__name__", str(etype))
                state.recorder.error(name, str(evalue), stb)

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autocall = 0
    shell = GradingShell.instance(config=config)
    with contextlib.suppress(Exception):
        shell.run_line_magic("matplotlib", "inline")  # what a Jupyter kernel does
    return shell


#: A state whose shell the fork server made once for all its sandboxes (see ``zygote``); None elsewhere.
_PREPARED: State | None = None

# ------------------------------------------------------------------ the chain


class State:
    """What the step chain shares: the job, the socket to the grader, the shell and where outputs go."""

    def __init__(self, job, sock):
        self.job, self.sock = job, sock
        self.recorder = None
        self.shell = None
        self.hooks = None  # the shell's hooks as the harness set them up (see _hooks)
        self.caller = None  # the process serving hidden tests, while one is alive (see _Caller)
        self.stdout, self.stderr = sys.stdout, sys.stderr


class _Same:
    """Equal to another ``_Same`` holding the very same objects (identity, not equality)."""

    def __init__(self, *objects):
        self.objects = objects

    def __eq__(self, other):
        return (
            isinstance(other, _Same)
            and len(self.objects) == len(other.objects)
            and all(a is b for a, b in zip(self.objects, other.objects, strict=True))
        )

    __hash__ = None


#: The shell's methods a cell goes through.
_RUNNING = ("run_cell", "run_cell_async", "transform_cell", "transform_ast", "run_ast_nodes", "run_code")


def _hooks(shell) -> list:
    """What a notebook would change to run code of its own in every later cell.

    Tracers, the shell's running methods, transformers and event callbacks: a cell of
    plain definitions runs without a fork only while these are as the harness left them.
    """
    manager = shell.input_transformer_manager
    lists = (shell.ast_transformers, shell.input_transformers_post, manager.cleanup_transforms,
             manager.line_transforms, manager.token_transformers)  # fmt: skip
    methods = [getattr(type(shell), name, None) for name in _RUNNING]
    methods += [shell.__dict__.get(name) for name in _RUNNING]  # replaced on the instance
    return [
        _Same(sys.gettrace(), sys.getprofile(), shell.compile, *methods),
        *(_Same(*items) for items in lists),
        *(_Same(name, *functions) for name, functions in sorted(shell.events.callbacks.items())),
    ]


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return {
            "SIGSEGV": "crashed (segmentation fault)",
            "SIGKILL": "was killed (SIGKILL, out of memory?)",
            "SIGXCPU": "used up its CPU time",
            "SIGABRT": "aborted (SIGABRT)",
            "SIGBUS": "crashed (bus error)",
            "SIGFPE": "crashed (floating-point exception)",
            "SIGILL": "crashed (illegal instruction)",
        }.get(name, f"was killed by {name}")
    return f"exited with status {os.WEXITSTATUS(status)}"


def _wait_runner(pid: int, handover_fd: int, timeout: float):
    """Wait for a runner: ("handover", None), ("exit", status) or ("timeout", None)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    deadline = _monotonic() + timeout
    watch = [handover_fd] + ([pidfd] if pidfd is not None else [])
    try:
        while True:
            left = deadline - _monotonic()
            if left <= 0:
                with contextlib.suppress(ProcessLookupError):
                    _kill(pid, signal.SIGKILL)
                _waitpid(pid, 0)
                return "timeout", None
            ready, _, _ = _select(watch, [], [], left if pidfd is not None else min(left, 0.02))
            if handover_fd in ready:
                if _read(handover_fd, 1) == b"h":
                    return "handover", None
                watch.remove(handover_fd)  # closed without handing over: wait for the exit
            done, status = _waitpid(pid, os.WNOHANG) if (pidfd is None or pidfd in ready) else (0, 0)
            if done == pid:
                return "exit", status
    finally:
        if pidfd is not None:
            _close(pidfd)


def _wait_runner_exit(pid: int, timeout: float):
    """("exit", status) once ``pid`` ends, or ("timeout", None) after killing it."""
    read_end, write_end = _pipe()
    _close(write_end)  # no handover possible: only the exit counts
    try:
        return _wait_runner(pid, read_end, timeout)
    finally:
        _close(read_end)


def _silence(state):
    null = Recorder()
    null.stream = lambda name, text: None  # type: ignore[method-assign]
    state.recorder = null
    sys.stdout = _Stream(lambda: state.recorder, "stdout")
    sys.stderr = _Stream(lambda: state.recorder, "stderr")


#: Said when a cell ran out of memory: its process (address space included) is dropped.
OUT_OF_MEMORY_NOTE = "\n[grader: this cell ran out of memory; its effects were discarded]\n"


def _run_cell(state, k: int, source: str) -> bool:
    """Run one cell and send its outputs; False when its process must not carry on (out of memory).

    A cell that ran out of memory leaves its process's address space spent (IPython keeps
    what the failed cell reached), so the notebook goes on from the state before it instead.
    """
    recorder = state.recorder = Recorder()
    sys.stdout = _Stream(lambda: state.recorder, "stdout")
    sys.stderr = _Stream(lambda: state.recorder, "stderr")
    ok, exhausted = True, False
    try:
        result = state.shell.run_cell(source, store_history=True)
        ok = bool(result.success)
        exhausted = isinstance(result.error_in_exec, MemoryError)
    except BaseException as exc:
        ok, exhausted = False, isinstance(exc, MemoryError)
        recorder.error(type(exc).__name__, str(exc), [])
    finally:
        sys.stdout, sys.stderr = state.stdout, state.stderr
    if exhausted:
        recorder.stream("stderr", OUT_OF_MEMORY_NOTE)
    count = getattr(state.shell, "execution_count", 1) - 1
    wire.send(state.sock, {"t": "cell", "k": k, "ok": ok, "count": count, "outputs": recorder.finish()})
    _silence(state)
    return not exhausted


def _groups(calls: list) -> list[list[int]]:
    """The indices of a test's calls, one group per graded function, in order of first call."""
    groups: dict[str, list[int]] = {}
    for index, call in enumerate(calls):
        groups.setdefault(str(call.get("f")), []).append(index)
    return list(groups.values())


#: The global generators' seed in every sandbox (see ``_seed_generators``).
SEED = 0


def _seed_generators() -> None:
    """Seed NumPy's and ``random``'s global generators: unseeded draws are the same in every run.

    They were seeded from the OS at import, once per fork server: a submission whose
    code draws without a seed got other numbers, and so other hints, on each run and
    on each Dask worker. Seeded here, a submission gets the same feedback everywhere.
    """
    import random

    import numpy

    numpy.random.seed(SEED)
    random.seed(SEED)


def _generators():
    """A function that puts NumPy's and ``random``'s global generators back to their state now."""
    import random

    import numpy

    try:
        saved = numpy.random.get_state(), random.getstate()
    except Exception:  # the notebook replaced them: nothing to put back
        return lambda: None

    def restore():
        with contextlib.suppress(Exception):  # the notebook may have replaced them: its own loss
            numpy.random.set_state(saved[0])
            random.setstate(saved[1])

    return restore


def _run_check(state, k: int, step: dict, indices: list[int]) -> bytes:
    """In a caller process: perform one graded function's calls of test ``k``; their record.

    A record is a JSON line of ``[index, size]`` pairs, then the outputs' JSON texts back to back
    (see ``_split_record``): the checkpoint forwards them without parsing megabytes of arrays.
    """
    calls, namespace = step["calls"], state.shell.user_ns
    texts, room = [], bounds.MAX_CHECK_BYTES
    for i in indices:
        texts.append(perform(calls[i], namespace, min(room, bounds.MAX_RETURN_BYTES)))
        room -= len(texts[-1])
    sizes = [[i, len(text)] for i, text in zip(indices, texts, strict=True)]
    return wire.dumps(sizes) + b"\n" + b"".join(texts)


def _split_record(record: bytes, indices: list[int]) -> dict[int, bytes]:
    """The output text of each call in a caller's record (ValueError unless it holds exactly ``indices``)."""
    head, _, body = record.partition(b"\n")
    outputs, start = {}, 0
    for i, size in json.loads(head):
        if type(i) is not int or type(size) is not int or size < 0 or i in outputs:
            raise ValueError("a malformed record")
        outputs[i], start = body[start : start + size], start + size
    if start != len(body) or sorted(outputs) != sorted(indices):
        raise ValueError("a record that does not match its calls")
    return outputs


class _Caller:
    """A forked process performing groups of calls one at a time, when told to (see ``_run_checks``).

    It starts from the checkpoint's state and, before each group, puts the global random
    generators back to that state, so a group sees what a process of its own would. It
    outlives a run of tests: a definitions-only cell after it is run here too (``mirror``),
    so the next run's groups see its functions without the cost of a new fork.
    """

    _COMMAND = 9  # bytes: b"g" (a group) or b"c" (a cell), the step, the group's number

    def __init__(self, state):
        go_r, self.go = _pipe()
        self.results, records = _pipe()
        self.pid = _fork()
        if self.pid == 0:  # never returns: an exception must not let it carry on as a checkpoint
            try:
                _close(self.go), _close(self.results)
                self._serve(state, go_r, records)
            except BaseException:
                _exit(1)
            _exit(0)
        _close(go_r), _close(records)

    @classmethod
    def _serve(cls, state, go: int, records: int) -> None:
        restore, steps = _generators(), state.job["steps"]
        while True:
            command = _read(go, cls._COMMAND)
            if len(command) != cls._COMMAND:
                return  # the checkpoint closed the pipe: done
            k, number = int.from_bytes(command[1:5], "big"), int.from_bytes(command[5:], "big")
            if command[:1] == b"c":
                _silence(state)
                state.shell.run_cell(steps[k]["source"], store_history=True)
                continue
            restore()
            data = _run_check(state, k, steps[k], _groups(steps[k]["calls"])[number])
            view = memoryview(len(data).to_bytes(8, "big") + data)
            while view:
                view = view[_write(records, view) :]

    def _command(self, op: bytes, k: int, number: int = 0) -> None:
        _write(self.go, op + k.to_bytes(4, "big") + number.to_bytes(4, "big"))

    def mirror(self, k: int) -> None:
        """Run cell ``k`` (definitions only, run by the checkpoint) here too, before the next group."""
        try:
            self._command(b"c", k)
        except OSError:  # gone: the next group starts a new process
            self.end()

    def perform(self, k: int, number: int, indices: list[int], timeout: float) -> dict[int, bytes]:
        """The output texts of group ``number`` of test ``k`` (calls ``indices``); its faults if the
        process crashes, hangs or sends garbage.

        After a fault the process is gone (``alive`` is False): the next group needs a new one.
        """
        deadline = _monotonic() + timeout
        try:
            self._command(b"g", k, number)
            record = _read_record(self.results, deadline)
            if record is not None:
                return _split_record(record, indices)
        except (OSError, ValueError, TypeError):
            pass
        how, status = self.end(max(deadline - _monotonic(), 0.5))
        if how == "timeout":
            fault = wire.Fault("Timeout", f"did not return within {timeout:g} s (an infinite loop?)")
        else:
            fault = wire.Fault("ProcessDied", f"the Python process {_describe(status)} during this call")
        return dict.fromkeys(indices, wire.dumps(wire.encode(fault)))

    @property
    def alive(self) -> bool:
        return self.pid is not None

    def end(self, timeout: float = 0.5):
        """Tell the process to stop and wait for it (killed after ``timeout``): ``_wait_runner``'s answer."""
        _close(self.go), _close(self.results)
        pid, self.pid = self.pid, None
        return _wait_runner_exit(pid, timeout)


def _read_record(fd: int, deadline: float) -> bytes | None:
    """One length-prefixed record from ``fd`` by ``deadline``; None on end of file, overrun or absurd size."""
    buffer, need, size = bytearray(), 8, None
    while True:
        while len(buffer) < need:
            left = deadline - _monotonic()
            if left <= 0:
                return None
            if not _select([fd], [], [], left)[0]:
                continue
            chunk = _read(fd, 1 << 20)
            if not chunk:
                return None
            buffer += chunk
        if size is not None:
            return bytes(buffer[8:need])
        size = int.from_bytes(buffer[:8], "big")
        if size > bounds.MAX_CHECK_BYTES + (1 << 20):  # the process ignored its bound
            return None
        need = 8 + size


def _run_checks(state, first: int) -> int:
    """Run the hidden tests from step ``first`` up to the next cell; returns the step after them.

    Each graded function's calls of a test (a *group*) run in a forked process, never
    here: the checkpoint keeps its state. One process serves the groups in turn (a fork
    costs more than most calls), each group with its own time budget; when a group
    crashes, hangs or sends garbage, it alone gets the fault and a new process goes on.
    The process stays for the next run of tests while only definitions come between.
    """
    steps, timeout = state.job["steps"], state.job["limits"]["check_timeout"]
    k = first
    while k < len(steps) and steps[k]["kind"] == "check":
        if k != first:
            wire.send(state.sock, {"t": "step", "k": k})
        try:
            _silence(state)
            calls, outputs = steps[k]["calls"], {}
            for number, indices in enumerate(_groups(calls)):
                if state.caller is None or not state.caller.alive:
                    state.caller = _Caller(state)
                outputs.update(state.caller.perform(k, number, indices, timeout))
            ordered = b",".join(outputs.get(i, b"null") for i in range(len(calls)))
            head = wire.dumps({"t": "check", "k": k, "id": steps[k]["id"]})
            wire.send(state.sock, head[:-1] + b',"outputs":[' + ordered + b"]}")
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                wire.send(state.sock, {"t": "fault", "k": k, "how": f"harness error {exc!r}"[:300]})
            _end_caller(state)
        k += 1
    return k


def _end_caller(state) -> None:
    """Stop the process serving hidden tests, if any (before a fork or the end: nothing inherits it)."""
    if state.caller is not None and state.caller.alive:
        state.caller.end()
    state.caller = None


def run_steps(state) -> None:
    """The checkpoint/runner chain over the job's steps (see the module docstring)."""
    steps = state.job["steps"]
    k = 0
    while k < len(steps):
        step = steps[k]
        timeout = step["timeout"]
        wire.send(state.sock, {"t": "step", "k": k})
        if step["kind"] == "check":  # its calls run in forked processes already: no runner needed
            k = _run_checks(state, k)
            continue
        if step.get("inert") and _hooks(state.shell) == state.hooks:  # only binds names: no runner needed
            _run_cell(state, k, step["source"])
            if state.caller is not None and state.caller.alive:
                state.caller.mirror(k)
            k += 1
            continue
        _end_caller(state)
        read_end, write_end = _pipe()
        pid = _fork()
        if pid == 0:  # the runner
            _close(read_end)
            try:
                if not _run_cell(state, k, step["source"]):
                    _exit(0)  # no handover: the checkpoint goes on from the state before this cell
                _write(write_end, b"h")
                _close(write_end)
                k += 1
                continue  # this process is now the checkpoint of step k + 1
            except BaseException as exc:
                with contextlib.suppress(BaseException):
                    wire.send(state.sock, {"t": "fault", "k": k, "how": f"harness error {exc!r}"[:300]})
            _exit(0)
        _close(write_end)
        how, status = _wait_runner(pid, read_end, timeout)
        _close(read_end)
        if how == "handover":
            _exit(0)  # the runner carries on; this state is no longer needed
        if how == "timeout":
            wire.send(state.sock, {"t": "fault", "k": k, "how": f"timeout {timeout:g}"})
        else:
            wire.send(state.sock, {"t": "fault", "k": k, "how": _describe(status)})
        k += 1
    _end_caller(state)
    wire.send(state.sock, {"t": "end"})
    _exit(0)


# ------------------------------------------------------------------ isolation


def _limits(limits: dict, own_uid: bool) -> None:
    mb = 1 << 20
    for which, soft, hard in (
        (resource.RLIMIT_AS, limits["memory_mb"] * mb, limits["memory_mb"] * mb),
        (resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 5),
        (resource.RLIMIT_FSIZE, limits["file_mb"] * mb, limits["file_mb"] * mb),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, 256, 256),
    ):
        resource.setrlimit(which, (soft, hard))
    if own_uid:  # counts the processes of the sandbox's own uid only
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))


def _copy_tree(src_fd: int, target: str, budget: int) -> int:
    """Copy regular files and folders (never links) from a directory fd; returns bytes left.

    The source is the grader's copy (depth bounded by ``bounds.MAX_DEPTH``), so recursion is safe.
    """
    for entry in os.scandir(src_fd):
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            sub = os.path.join(target, entry.name)
            os.mkdir(sub, 0o700)
            fd = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=src_fd)
            budget = _copy_tree(fd, sub, budget)
            os.close(fd)
        elif entry.is_file(follow_symlinks=False):
            fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=src_fd)
            with os.fdopen(fd, "rb") as source:
                data = source.read(max(budget, 0) + 1)
            if len(data) > budget:
                continue
            budget -= len(data)
            path = os.path.join(target, entry.name)
            with open(path, "wb") as out:
                out.write(data)
    return budget


def _preload(job: dict, notes: list) -> None:
    """Import what every notebook imports, once, before any fork (speed only)."""
    for name in job["preload"]:
        try:
            __import__(name)
        except Exception as exc:
            notes.append(f"preloading {name} failed: {exc!r}"[:200])


def zygote(control_fd: int, parent_pid: int, preload: list[str]) -> None:
    """A fork server: preloads the notebook's modules and makes the shell once, then forks one S0 per job.

    Requests arrive on a SOCK_SEQPACKET socket: the job path, with the sandbox's
    socket and log file as passed descriptors. The reply is the child's pid and
    a pidfd for it, so the grader can kill it without pid-reuse races. The child
    is forked ahead, while the grader is busy elsewhere (``_spare``): a request
    hands it its job and is answered at once. Runs no submission code itself;
    dies with the grader.
    """
    sys.dont_write_bytecode = True
    confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        _exit(3)
    _preload({"preload": preload}, [])
    global _PREPARED
    try:  # one shell for every sandbox (each gets its own copy); without it, each makes its own
        _PREPARED = State(None, None)
        _PREPARED.shell = make_shell(_PREPARED)
    except Exception:
        _PREPARED = None
        with contextlib.suppress(Exception):
            from IPython.core.interactiveshell import InteractiveShell

            InteractiveShell.clear_instance()
    gc.freeze()  # the preloaded objects: no collection in a sandbox touches (and so copies) their pages
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    spare = _spare(control)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 2)
        except InterruptedError:
            continue
        if not message or len(fds) != 2:
            _exit(0)  # the grader is done (or confused): so is the fork server
        for _attempt in range(2):  # a spare that died waiting is replaced once
            pid, handoff = spare
            try:
                pidfd = os.pidfd_open(pid)
                break
            except OSError:
                handoff.close()
                spare = _spare(control)
        else:
            _exit(6)  # cannot start sandboxes: the grader falls back to fresh processes
        socket.send_fds(control, [str(pid).encode()], [pidfd])  # the grader first: it waits for this
        with contextlib.suppress(OSError):  # it died since: the grader sees its socket close
            socket.send_fds(handoff, [message], fds)
        handoff.close()
        for fd in (pidfd, *fds):
            _close(fd)
        spare = _spare(control)


def _spare(control: socket.socket) -> tuple[int, socket.socket]:
    """Fork the next S0, waiting for its job; (pid, the socket that hands the job over)."""
    zygote_pid = os.getpid()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _fork()
    if pid:
        theirs.close()
        return pid, ours
    try:
        confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.close()
        ours.close()
        os.setsid()
        message, fds, _, _ = socket.recv_fds(theirs, 4096, 2)
        theirs.close()
        if not message or len(fds) != 2:
            _exit(0)  # the fork server ended before giving this one a job
        sock_fd, log_fd = fds
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        _close(log_fd)
        main(message.decode("utf-8"), socket_fd=sock_fd, parent_pid=zygote_pid)
    finally:
        _exit(5)


def main(job_path: str, socket_fd: int | None = None, parent_pid: int | None = None) -> None:
    """Entry point of S0 (see the module docstring); the fork server passes the socket and its pid."""
    sys.dont_write_bytecode = True
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # stdin brought the bootstrap; the notebook reads nothing from it
    _close(null)
    with open(job_path, encoding="utf-8") as handle:
        job = json.load(handle)
    if socket_fd is not None:
        job["socket_fd"], job["parent_pid"] = socket_fd, parent_pid
    sock = socket.socket(fileno=job["socket_fd"])
    confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != job["parent_pid"]:
        _exit(3)
    notes: list[str] = []
    for procs in job.get("cgroups", []):  # before anything else: every descendant inherits the group
        try:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))
        except OSError as exc:
            notes.append(f"could not join the memory cgroup ({exc.strerror})")
    if not job.get("cgroups"):
        notes.append("no cgroup: memory is limited per process only")
    _preload(job, notes)
    if not job["isolate"]:
        _unconfined(job, sock, notes)
    files_fd = os.open(os.path.join(job["scratch"], "files"), os.O_RDONLY | os.O_DIRECTORY)
    if os.geteuid() == 0:  # nothing below runs as root: S0 takes a uid that owns nothing
        confine.fresh_uid(job["uid"])
        confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of uid clears it
        if os.getppid() != job["parent_pid"]:
            _exit(3)
    ready_r, ready_w = _pipe()
    go_r, go_w = _pipe()
    pid = _fork()
    if pid:  # S0: write C's uid/gid maps from outside, then wait for C and pass on its fate
        _close(ready_w), _close(go_r)
        if _read(ready_r, 1) == b"u":
            with contextlib.suppress(OSError):  # C sees EOF instead of "m" and reports
                confine.map_ids(pid, 0, os.geteuid(), os.getegid())
                _write(go_w, b"m")
        _close(go_w), _close(ready_r)
        _, status = _waitpid(pid, 0)
        _exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
    # C: the namespaces' creator
    _close(ready_r), _close(go_w)
    try:
        confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        try:
            confine.unshare_all()
        finally:
            _write(ready_w, b"u")
            _close(ready_w)
        if _read(go_r, 1) != b"m":
            raise OSError(0, "the grader could not map the sandbox's uid")
        _close(go_r)
        sources = confine.open_sources(job["keep"], job["hide"])
        confine.become_namespace_root()
        confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError as exc:
        wire.send(sock, {"t": "hello", "error": f"sandbox setup failed: {exc}"[:500]})
        _exit(4)
    alive_r, alive_w = _pipe()  # C holds the write end: EOF means C is gone
    pid = _fork()
    if pid:  # C: wait for S1 and pass on its fate
        _close(alive_r)
        _, status = _waitpid(pid, 0)
        _exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
    # S1 (its parent is outside its PID namespace, so getppid() says 0: the pipe tells instead)
    _close(alive_w)
    confine.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if _select([alive_r], [], [], 0)[0]:
        _exit(3)
    _close(alive_r)
    try:
        confine.build_root(sources, job["limits"]["tmpfs_mb"])
        for folder in ("/tmp/home", "/tmp/submission"):
            os.makedirs(folder, mode=0o700)
        _copy_tree(files_fd, "/tmp/submission", job["limits"]["copy_mb"] << 20)
        _close(files_fd)
    except OSError as exc:
        wire.send(sock, {"t": "hello", "error": f"sandbox setup failed: {exc}"[:500]})
        _exit(4)
    _reap_and_run(job, sock, notes, "/tmp/submission", "/tmp/home", confined=True)


def _unconfined(job: dict, sock, notes: list) -> None:
    """``--no-sandbox``: limits and a scratch cwd only; as root, still a uid that owns nothing."""
    confine.prctl(PR_SET_CHILD_SUBREAPER, 1)
    scratch = job["scratch"]
    cwd, home = os.path.join(scratch, "files"), os.path.join(scratch, "home")
    if os.geteuid() == 0:
        os.chmod(os.path.dirname(scratch), 0o711)  # the workdir: passable, not listable
        os.chmod(scratch, 0o711)
        for folder in (cwd, home):
            os.chown(folder, job["uid"], job["uid"])
            for path in _tree(folder):
                os.chown(path, job["uid"], job["uid"], follow_symlinks=False)
    _reap_and_run(job, sock, notes, cwd, home, confined=False)


def _tree(folder: str):
    """Paths under ``folder`` (a copy the grader made: bounded depth), without recursion."""
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                yield entry.path
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)


def _reap_and_run(job: dict, sock, notes: list, cwd: str, home: str, confined: bool) -> None:
    """S1 forks E and reaps every process of the sandbox; E drops what it may not keep and runs the steps."""
    pid = _fork()
    if pid:  # S1: reap every process of the sandbox; none left means the sandbox is done
        while True:
            try:
                os.wait()
            except ChildProcessError:
                _exit(0)
            except InterruptedError:
                pass
    # E: the sandbox proper
    try:
        isolation = {"namespaces": confined, "uid": os.geteuid()}
        if confined:
            confine.shed_privileges()
        elif os.geteuid() == 0:
            confine.fresh_uid(job["uid"])
        isolation["uid"] = os.geteuid()
        _limits(job["limits"], own_uid=confined or isolation["uid"] == job["uid"])
        confine.prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.chdir(cwd)
        os.environ.update(
            HOME=home,
            IPYTHONDIR=os.path.join(home, ".ipython"),
            TMPDIR=os.path.dirname(cwd),
            MPLCONFIGDIR=os.path.join(home, ".matplotlib"),
            NUMBA_CACHE_DIR=os.path.join(home, ".numba"),
        )
        os.closerange(3, job["socket_fd"])
        os.closerange(job["socket_fd"] + 1, 1024)
        state = _PREPARED or State(job, sock)
        state.job, state.sock = job, sock
        if state.shell is None:
            state.shell = make_shell(state)
        with contextlib.suppress(AttributeError):  # the directory history starts here, not in the fork server
            history = state.shell.history_manager.dir_hist
            history[:] = [type(history[0])(os.getcwd())] if history else []
        state.hooks = _hooks(state.shell)
        state.stdout, state.stderr = sys.stdout, sys.stderr
        _seed_generators()
        gc.freeze()  # the shell too: every step forks, and a collection would copy these pages
        wire.send(sock, {"t": "hello", "isolation": isolation, "notes": notes})
    except Exception as exc:
        with contextlib.suppress(Exception):
            wire.send(sock, {"t": "hello", "error": f"sandbox setup failed: {exc!r}"[:500]})
        _exit(4)
    run_steps(state)
