"""`make lab` serves the student notebook on 127.0.0.1, token required, without warnings."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time

import pytest


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
        while not (found := re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log.read_text())):
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        token = found.group(1)
        status, _ = get(port, f"/lab/tree/notebooks/Regularization.ipynb?token={token}")
        assert status == 200
        time.sleep(2)  # let start-up finish logging before the deliberately refused request
        startup_log = log.read_text()
        assert get(port, "/api/contents/notebooks")[0] == 403  # token authentication is on
        status, listing = get(port, f"/api/contents/notebooks?token={token}")
        assert status == 200
        assert b"Regularization.ipynb" in listing
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert "--ip=127.0.0.1" in startup_log
    for noise in ("WARNING", "DeprecationWarning", "[W "):
        lines = [line for line in startup_log.splitlines() if noise in line and "pypi-more" not in line]
        assert not lines, lines
