"""Confining one sandbox with Linux namespaces: the same steps whether the grader is root or not.

Read this first if you change the sandbox. Everything here is plain Linux
system calls (through ctypes); each constant is named after its C header.

Who does what (process names as in ``harness``)::

    S0  host namespaces, the grader's uid (or, as root, a fresh uid)
     |  forks C, then writes C's uid/gid maps from outside (``map_ids``)
     `- C   new user, mount, PID, network and IPC namespaces (``unshare_all``)
         |  opens what the new root will show (``open_sources``), becomes uid 0 of its namespace
         `- S1  pid 1 of the new PID namespace: builds the new root and pivots into it (``build_root``)
             `- E   nested user namespace as uid 1000 (``shed_privileges``): runs the notebook

Why each step:

- **User namespace** (``CLONE_NEWUSER``): lets an unprivileged process own
  the other namespaces. Inside, C is uid 0 with capabilities that count only
  for namespaces it owns: it can mount in its own mount namespace, nothing
  outside. Outside, its processes are the grader's uid (or, for a root grader,
  a fresh uid that owns nothing on the machine): student code never runs as
  root.
- **Mount namespace + pivot_root**: the sandbox's ``/`` is a new, empty tmpfs.
  Only what is bound into it exists: ``/usr``, ``/etc``, ``/sys`` (read-only),
  the interpreter, the venv and the kit (read-only), a handful of device
  nodes, a fresh ``/proc`` and a private, size-limited ``/tmp``. Everything
  else on the machine, files and folders alike, is absent (deny by default).
  The kit modules that could do the graded work (``sandbox.HIDDEN_MODULES``)
  show ``HIDDEN_STUB`` instead, their bytecode caches an empty folder.
  The old root is detached, so no path leads back to it.
- **PID namespace**: the sandbox sees only its own processes; when S1 dies the
  kernel kills them all, so nothing outlives the sandbox.
- **Network and IPC namespaces**: no interface but a loopback that is down; no
  shared memory or semaphores with anyone.
- **Nested user namespace for E**: S1's capabilities would let it unmount or
  remount what hides the machine. E leaves them behind by entering a user
  namespace of its own as uid 1000: it holds no capability over the mounts,
  and mounts made by a more privileged namespace are locked for it anyway.

If the kernel refuses any of this (user namespaces switched off), ``probe``
says so and the grader refuses to run (see ``sandbox.isolation_problem``).
This module imports only the standard library: it runs in the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import re

# <sched.h>: namespaces for unshare(2)
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
ALL_NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
# <sys/mount.h>: mount(2) and umount2(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MNT_DETACH = 0x2
# <sys/prctl.h>
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
#: statvfs(3) flags of a mount -> the mount(2) flags that keep them on a remount. A user namespace
#: may not clear flags a more privileged one set (they are locked), so a remount repeats them.
KEPT_FLAGS = {
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: MS_NOATIME,
    os.ST_NODIRATIME: MS_NODIRATIME,
    os.ST_RELATIME: MS_RELATIME,
}

#: The uid and gid student code sees (inside E's own user namespace).
SANDBOX_UID = 1000
#: Top-level entries of the host's / shown read-only (or, when they are links, recreated as links).
#: Not /sys, /var, /run, /home, /opt, /srv, /mnt, /media, /root nor any file: deny by default.
SYSTEM_ENTRIES = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: Device nodes bound into the sandbox's /dev.
DEVICES = ("null", "zero", "full", "random", "urandom")
#: What student code finds in place of a hidden kit module (the list: ``sandbox.HIDDEN_MODULES``).
HIDDEN_STUB = '''"""Hidden while a notebook is graded: this module would do the graded work for it."""


def __getattr__(name):
    raise ImportError(f"{__name__} is not available while a notebook is graded")
'''
_OCTAL = re.compile(r"\\([0-7]{3})")
#: Where the new root is assembled before pivot_root (in the private mount namespace).
STAGING = "/tmp"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _enc(text):
    return None if text is None else os.fsencode(text)


def mount(source, target, fstype, flags: int, data=None) -> None:
    _check(_libc.mount(_enc(source), _enc(target), _enc(fstype), flags, _enc(data)), f"mount {target}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def pivot_root(new_root: str, put_old: str) -> None:
    if not hasattr(_libc, "pivot_root"):
        raise OSError(0, "this C library has no pivot_root")
    _check(_libc.pivot_root(_enc(new_root), _enc(put_old)), "pivot_root")


# ------------------------------------------------------------------ identities


def fresh_uid(uid: int) -> None:
    """As root: become ``uid`` (no groups) before anything else, so nothing runs as root from here."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_DUMPABLE, 1)  # a uid change hands /proc/<pid> to root; S0 must write its child's maps


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def map_ids(pid: int | str, inside: int, outside_uid: int, outside_gid: int) -> None:
    """Map one uid and gid of ``pid``'s new user namespace to one outside (what an unprivileged owner may)."""
    _write(f"/proc/{pid}/setgroups", "deny")  # required before an unprivileged gid_map
    _write(f"/proc/{pid}/uid_map", f"{inside} {outside_uid} 1\n")
    _write(f"/proc/{pid}/gid_map", f"{inside} {outside_gid} 1\n")


def unshare_all() -> None:
    """C: new user, mount, PID, network and IPC namespaces; mounts stop propagating to the host."""
    unshare(ALL_NAMESPACES)


def become_namespace_root() -> None:
    """C, once S0 has written the maps: uid and gid 0 of the new namespace (the mapped outer uid)."""
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    prctl(PR_SET_DUMPABLE, 1)  # E must still own /proc/self to write its own maps


def shed_privileges() -> None:
    """E: a nested user namespace as ``SANDBOX_UID``, no capability left, no way to regain one."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    map_ids("self", SANDBOX_UID, uid, gid)
    os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)  # from uid 0 to another: capabilities cleared
    prctl(PR_SET_NO_NEW_PRIVS, 1)


# ------------------------------------------------------------------ the new root


def _outermost(paths) -> list[str]:
    chosen: list[str] = []
    for path in sorted({os.path.normpath(p) for p in paths}, key=len):
        if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen):
            chosen.append(path)
    return chosen


def open_sources(keep: list[str], hide: list[str] = ()) -> dict:
    """C, before giving up the outer uid's file access: handles on everything the new root shows.

    Returns {"links": {name: target}, "dirs": {path: fd}, "devices": {name: fd}, "hide": [path]}.
    O_PATH handles opened in the new mount namespace can be bound later, whatever the
    permissions of the folders above them. ``hide``: files and folders inside ``keep`` that
    the new root shows as ``HIDDEN_STUB`` and as empty folders (``sandbox.HIDDEN_MODULES``).
    """
    sources: dict = {"links": {}, "dirs": {}, "devices": {}, "hide": list(hide)}
    for name in SYSTEM_ENTRIES:
        path = "/" + name
        if os.path.islink(path):
            sources["links"][name] = os.readlink(path)
        elif os.path.isdir(path):
            sources["dirs"][path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    system = list(sources["dirs"])
    for path in _outermost(keep):
        real = os.path.realpath(path)
        inside_system = any(p == d or p.startswith(d + "/") for d in system for p in (path, real))
        if os.path.isdir(path) and not inside_system:
            sources["dirs"][path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
    for name in DEVICES:
        with_path = "/dev/" + name
        if os.path.exists(with_path):
            sources["devices"][name] = os.open(with_path, os.O_PATH)
    return sources


def _mounts_under(target: str) -> list[str]:
    """Mount points at or below ``target`` (from /proc/self/mountinfo), outermost first."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as handle:
        for line in handle:
            point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4])  # "\040" is a space
            if point == target or point.startswith(target.rstrip("/") + "/"):
                found.append(point)
    return sorted(set(found), key=len)


def _read_only(target: str, devices: bool = False) -> None:
    """Remount every mount at or below ``target`` read-only, keeping the flags it is locked with."""
    for point in _mounts_under(target):
        try:
            kept = os.statvfs(point).f_flag
        except OSError:
            continue
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | (0 if devices else MS_NODEV)
        flags |= sum(ms for st, ms in KEPT_FLAGS.items() if kept & st)
        mount(None, point, None, flags)


def _bind(fd: int, target: str, directory: bool) -> None:
    if directory:
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    os.close(fd)


def _hide(root: str, paths: list[str]) -> None:
    """Cover each hidden file with ``HIDDEN_STUB`` and each hidden folder with an empty one, read-only."""
    stub, empty = f"{root}/.hidden-stub.py", f"{root}/.hidden-empty"
    with open(stub, "w", encoding="utf-8") as handle:
        handle.write(HIDDEN_STUB)
    os.mkdir(empty)
    for path in paths:
        target = root + path
        if os.path.isdir(target):
            mount(empty, target, None, MS_BIND)
        elif os.path.isfile(target):
            mount(stub, target, None, MS_BIND)
        else:
            continue  # absent (or not shown at all): nothing to cover
        _read_only(target)
    os.unlink(stub)  # the binds keep their sources; / lists neither
    os.rmdir(empty)


def build_root(sources: dict, tmp_mb: int) -> None:
    """S1: assemble the sandbox's / on a tmpfs and pivot into it (see the module docstring)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = STAGING
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    for name, target in sources["links"].items():
        os.symlink(target, f"{root}/{name}")
    os.makedirs(f"{root}/tmp")
    mount("tmpfs", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for path, fd in sorted(sources["dirs"].items()):
        _bind(fd, root + path, directory=True)
        _read_only(root + path)
    _hide(root, sources["hide"])
    os.makedirs(f"{root}/dev")
    mount("tmpfs", f"{root}/dev", "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for name, fd in sources["devices"].items():
        _bind(fd, f"{root}/dev/{name}", directory=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{root}/dev/{name}")
    os.makedirs(f"{root}/dev/shm")
    _read_only(f"{root}/dev", devices=True)
    mount("tmpfs", f"{root}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
    os.makedirs(f"{root}/proc")
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    pivot_root(".", ".")  # the old root ends up stacked under the new one...
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")  # ...and is detached: unreachable
    os.chdir("/")
    mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


# ------------------------------------------------------------------ can it be done here?


def probe(uid: int) -> str | None:
    """None if this machine lets the grader confine a sandbox as ``harness`` does; else why not.

    Runs the same steps for real in throw-away child processes (as ``uid`` when
    root, like a sandbox), touching no file.
    """
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(report_r)
        try:
            if os.geteuid() == 0:
                fresh_uid(uid)
            problem = _probe()
        except BaseException as exc:
            problem = str(exc) or type(exc).__name__
        os.write(report_w, (problem or "").encode()[:400])
        os._exit(0)
    os.close(report_w)
    try:
        report = b""
        while chunk := os.read(report_r, 400):
            report += chunk
    finally:
        os.close(report_r)
        os.waitpid(pid, 0)
    return report.decode(errors="replace") or None


def _probe() -> str | None:
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # C
        os.close(ready_r), os.close(go_w), os.close(report_r)
        try:
            try:
                unshare_all()
            finally:
                os.write(ready_w, b"u")
            if os.read(go_r, 1) != b"m":
                raise OSError(0, "the uid map could not be written")
            sources = open_sources([])
            become_namespace_root()
            child = os.fork()
            if child == 0:
                try:
                    build_root(sources, 1)
                    os._exit(0)
                except BaseException as exc:
                    os.write(report_w, str(exc).encode()[:300])
                    os._exit(1)
            _, status = os.waitpid(child, 0)
            os._exit(0 if status == 0 else 1)
        except BaseException as exc:
            os.write(report_w, str(exc).encode()[:300])
            os._exit(1)
    os.close(ready_w), os.close(go_r), os.close(report_w)
    problem = None
    try:
        os.read(ready_r, 1)
        try:
            map_ids(pid, 0, os.geteuid(), os.getegid())
            os.write(go_w, b"m")
        except OSError as exc:  # C reports why (its unshare failed?); this is the fallback
            problem = f"writing the uid map failed ({exc.strerror})"
        os.close(go_w)
        _, status = os.waitpid(pid, 0)
        report = os.read(report_r, 400).decode(errors="replace")
    finally:
        os.close(ready_r), os.close(report_r)
    return None if status == 0 else (report or problem or "the namespace setup failed")
