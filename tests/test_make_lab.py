"""`make lab` serves the student notebook on 127.0.0.1, token required, without warnings."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

#: How the server logs the request made without a token (warnings, on purpose).
REFUSED = ("403 GET /api/contents/notebooks", "wrote error: 'Forbidden'")


def get(port: int, path: str) -> tuple[int, bytes]:
    """One GET on 127.0.0.1, connection closed afterwards."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_lab_serves_the_student_notebook(root, tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    env.pop("DISPLAY", None)
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}"], cwd=root, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        printed = rf"http://127\.0\.0\.1:{port}/lab/tree/notebooks/Regularization\.ipynb\?token=(\w+)"
        while not (found := re.search(printed, log.read_text())):
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)  # polling a log file: there is no event to wait on
        token = found.group(1)
        status, page = get(port, f"/lab/tree/notebooks/Regularization.ipynb?token={token}")
        assert status == 200  # the printed URL opens the assignment, not the Launcher
        # No instructor controls: nbgrader's lab extension (menu, Create Assignment, Validate) is off.
        config = json.loads(re.search(rb'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
        assert "@jupyter/nbgrader" in config["disabledExtensions"]
        assert get(port, "/api/contents/notebooks")[0] == 403  # token authentication is on
        status, listing = get(port, f"/api/contents/notebooks?token={token}")
        assert status == 200
        assert b"Regularization.ipynb" in listing
        # Read before stopping the server: stopping it kills start-up helpers (npm) that then warn.
        served_log = log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # The log up to now, minus the lines of the deliberately refused request.
    startup_log = "\n".join(line for line in served_log.splitlines() if not any(r in line for r in REFUSED))
    assert "--ip=127.0.0.1" in startup_log
    for noise in ("WARNING", "DeprecationWarning", "[W "):
        lines = [line for line in startup_log.splitlines() if noise in line and "pypi-more" not in line]
        assert not lines, lines
