"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp data folder, a Unix socket only.

PostgreSQL refuses to run as root, so under root the server runs as ``nobody``
(``subprocess``'s ``user=``, supplementary groups dropped). It listens on no
TCP port, only on a socket in its own temp folder; ``pg_ctl start -w`` returns
once the server accepts connections, and the context manager stops it and
removes every file on exit.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SUPERUSER = "grader"
DATABASE = "gradebook"
PORT = 5432  # names the socket file only: the server listens on no TCP port


def server_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian layout), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _server_user() -> dict:
    """``subprocess`` arguments that run the server unprivileged when we are root."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _run(args: list, **kwargs) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Start a PostgreSQL server with an empty database; yield its ``postgresql://`` URL."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql")
    owner = _server_user()
    home = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    data, log = home / "data", home / "server.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(home)}
    try:
        if owner:
            os.chown(home, owner["user"], owner["group"])
        _run([bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
              "--locale=C", "--no-sync"], env=env, **owner)  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = ''\nunix_socket_directories = '{home}'\nport = {PORT}\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")  # fmt: skip
        # -w: pg_ctl returns when the server reports itself ready (postmaster.pid), or fails
        _run([bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "600", "start"], env=env, **owner)
        try:
            _run([bin_dir / "createdb", "-h", home, "-p", str(PORT), "-U", SUPERUSER, DATABASE], env=env)
            yield f"postgresql://{SUPERUSER}@/{DATABASE}?host={home}&port={PORT}"
        finally:
            _run([bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "600", "stop"], env=env, **owner)
    finally:
        shutil.rmtree(home, ignore_errors=True)
