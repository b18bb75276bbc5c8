"""Servers and headless Chromium for the explorer's browser tests and its benchmark.

Both JupyterLab and Voila run as child processes on 127.0.0.1 and a free
port, with their own temporary directories; every wait is bounded; at the
end the kernels are shut down through the server's REST API and then the
server is stopped by its PID. Used by ``tests/test_explorer_browser.py``
and ``benchmarks/bench_explorer.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
NOTEBOOK = "notebooks/Explore_regularization.ipynb"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
BIN = Path(sys.executable).parent


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests "
            "(apt-get install chromium; .ci/run does it when run as root)."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'."
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A Jupyter server process (JupyterLab or Voila) on 127.0.0.1, stopped by its PID."""

    def __init__(self, argv, port: int, workdir: Path, *, token: str | None = None, env=None):
        self.argv, self.port, self.workdir, self.token = list(argv), port, workdir, token
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = workdir / "server.log"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.kernel_ids: set[str] = set()

    def start(self, timeout: float = 600.0) -> Server:
        """Launch and wait until the port accepts connections or the server exits.

        ``timeout`` only bounds a hung server: a loaded 2-core CI box has
        been seen to need more than a minute to import JupyterLab. On any
        failure the process is stopped and reaped before the error is raised.
        """
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited early:\n{self.log()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
                    return self
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.2)  # wakes at once if the server exits
            raise TimeoutError(f"the server did not listen within {timeout} s:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def request(self, method: str, path: str, timeout: float = 10.0):
        """(status, parsed JSON or None) of one REST call, authenticated by token or xsrf."""
        headers = {"Cookie": "_xsrf=browser-test", "X-XSRFToken": "browser-test"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        request = urllib.request.Request(self.base + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            return exc.code, None
        try:
            return status, (json.loads(body) if body else None)
        except ValueError:  # an HTML page (e.g. Voila redirects unknown API paths)
            return status, None

    def shutdown_kernels(self) -> list[str]:
        """Shut every kernel down through the API: sessions, listed kernels, known kernel ids."""
        closed = []
        status, sessions = self.request("GET", "/api/sessions")
        if status == 200 and isinstance(sessions, list):
            for session in sessions:
                self.request("DELETE", f"/api/sessions/{session['id']}")
                self.kernel_ids.add(session["kernel"]["id"])
        status, kernels = self.request("GET", "/api/kernels")
        if status == 200 and isinstance(kernels, list):
            self.kernel_ids.update(kernel["id"] for kernel in kernels)
        for kernel_id in sorted(self.kernel_ids):
            status, _ = self.request("DELETE", f"/api/kernels/{kernel_id}")
            if status in (204, 404):
                closed.append(kernel_id)
        return closed

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the kernels down, then end the server: SIGTERM by PID, SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is not None:
            self.process.wait()  # reaped: no ResourceWarning when the Popen is collected
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            self.shutdown_kernels()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


def jupyter_env(workdir: Path) -> dict:
    """Private Jupyter config/data/runtime directories, so nothing leaks in or out."""
    dirs = {name: workdir / name for name in ("config", "data", "runtime")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }


def lab_server(workdir: Path) -> Server:
    """JupyterLab with a token, a fresh workspace and settings directory, app exposed to JS."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
        f"--LabApp.user_settings_dir={workdir / 'user-settings'}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0:  # CI containers run as root; the server refuses that unless told
        argv.append("--ServerApp.allow_root=True")
    return Server(argv, port, workdir, token=token, env=jupyter_env(workdir))


def explore_command(port: int) -> list[str]:
    """The command line ``make explore`` runs (read with ``make -n``), for ``port``."""
    result = subprocess.run(["make", "-s", "-n", "explore", f"PORT={port}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    text = result.stdout.replace("\\\n", " ")
    lines = [line for line in text.splitlines() if re.search(r"\bvoila\b", line)]
    if len(lines) != 1:
        raise RuntimeError(f"cannot find the voila command in `make -n explore`:\n{result.stdout}")
    return shlex.split(lines[0])


def voila_server(workdir: Path) -> Server:
    """The Voila server of ``make explore``, on a free port."""
    port = free_port()
    return Server(explore_command(port), port, workdir, env=jupyter_env(workdir))


def start_server(factory, workdir: Path, attempts: int = 3) -> Server:
    """``factory(workdir)`` started; a new free port on each retry.

    A port found free can be taken by another process (the other xdist
    worker, say) before the server binds it; the server then exits and
    the next attempt picks another port.
    """
    for attempt in range(1, attempts + 1):
        server = factory(workdir)
        try:
            return server.start()
        except RuntimeError:
            if attempt == attempts or "already in use" not in server.log():
                raise
    raise AssertionError("unreachable")


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS,
                                      headless=True)  # fmt: skip


#: How often a wait re-checks the page. Playwright's default (every animation frame)
#: keeps the browser busy, and the machine's CPU is what the explorer's latency
#: depends on; timings come from the page's own log, not from when a wait returns.
POLL_MS = 50

# The page keeps a log of what the explorer shows: key presses, every new
# boundary picture (src change, then load) and every caption change with its
# data-* attributes, each with performance.now().
RECORDER = """
(() => {
  if (window.__rex) return;
  const log = window.__rex = [];
  document.addEventListener('keydown', e => log.push({kind: 'key', t: performance.now(), key: e.key}), true);
  const hooked = new WeakSet();
  const hook = () => document.querySelectorAll('img.rex-boundary').forEach(img => {
    if (hooked.has(img)) return;
    hooked.add(img);
    img.addEventListener('load', () => log.push({kind: 'load', t: performance.now()}));
  });
  let last = null;
  new MutationObserver(mutations => {
    const t = performance.now();
    for (const m of mutations) {
      if (m.type === 'attributes' && m.target.matches && m.target.matches('img.rex-boundary')) {
        log.push({kind: 'src', t});
      }
    }
    hook();
    const caption = document.querySelector('.rex-caption-values');
    if (caption && caption.outerHTML !== last) {
      last = caption.outerHTML;
      log.push({kind: 'caption', t, data: {...caption.dataset}});
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true,
                             attributes: true, attributeFilter: ['src']});
  hook();
})()
"""


class ExplorerPage:
    """The explorer inside a Playwright page: waits, readouts and timings."""

    def __init__(self, page):
        self.page = page

    def caption(self) -> dict:
        return self.page.evaluate(
            "() => { const c = document.querySelector('.rex-caption-values');"
            " return c ? {...c.dataset} : null; }"
        )

    def readout(self, name: str) -> str:
        return self.page.locator(f".rex-{name} .widget-readout").inner_text().strip()

    def wait_until_done(self, timeout_ms: float = 120_000) -> dict:
        """Wait until the picture is the finished run of the values the sliders show."""
        self.page.wait_for_function(
            """() => {
                const c = document.querySelector('.rex-caption-values');
                const lam = document.querySelector('.rex-lambda .widget-readout');
                const kp = document.querySelector('.rex-keep-prob .widget-readout');
                return c && lam && kp && c.dataset.status === 'done'
                    && c.dataset.lambdaLabel === lam.textContent.trim()
                    && c.dataset.keepProb === kp.textContent.trim();
            }""",
            timeout=timeout_ms,
            polling=POLL_MS,
        )
        return self.caption()

    def round_trip(self) -> dict:
        """Toggle "show test points" twice and wait for each redraw: a barrier, not a pause.

        The kernel sends widget updates in order, so once the caption shows the
        toggled view, every picture sent before it (a stale run included) has
        arrived. Returns the caption after the second toggle.
        """
        box = self.page.locator(".rex-show-test input[type=checkbox]")
        for want in ("false", "true"):
            box.click()
            self.page.wait_for_function(
                "want => { const c = document.querySelector('.rex-caption-values');"
                " return c && c.dataset.showTest === want; }",
                arg=want, timeout=60_000,
            )  # fmt: skip
        return self.caption()

    def boundary_src(self) -> str:
        return self.page.locator("img.rex-boundary").get_attribute("src") or ""

    def accuracy_text(self) -> str:
        return self.page.locator(".rex-accuracy-values").inner_text()

    def handle(self, name: str = "lambda"):
        return self.page.locator(f".rex-{name} .noUi-handle")

    def start_recording(self) -> None:
        self.page.evaluate(RECORDER)
        self.page.evaluate("window.__rex.length = 0")

    def latencies(self) -> tuple[float, float]:
        """(first new picture, finished picture) in ms after the last key press of the log.

        A picture counts when its image has loaded (decoded) in the page;
        it belongs to the caption that follows its src change.
        """
        log = self.page.evaluate("window.__rex")
        key = max(e["t"] for e in log if e["kind"] == "key")
        after = [e for e in log if e["t"] >= key]
        captions = [e for e in after if e["kind"] == "caption"]
        final = captions[-1]
        first = captions[0]

        def loaded(caption):
            srcs = [e["t"] for e in after if e["kind"] == "src" and e["t"] <= caption["t"]]
            start = srcs[-1] if srcs else caption["t"]
            loads = [e["t"] for e in after if e["kind"] == "load" and e["t"] >= start]
            return (loads[0] if loads else caption["t"]) - key

        return loaded(first), loaded(final)

    def dismiss_news(self, wait_ms: float = 0) -> bool:
        """Answer JupyterLab's "official Jupyter news?" toast with No, if it is there."""
        button = self.page.locator(".jp-Notification-Toast, .Toastify__toast").get_by_role(
            "button", name=re.compile(r"^No$")
        )
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            button.first.wait_for(state="visible", timeout=max(wait_ms, 1))
        except PlaywrightTimeout:  # no toast, nothing to do
            return False
        button.first.click()
        return True

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


def open_in_lab(page, server: Server, timeout_ms: float = 120_000) -> ExplorerPage:
    """Open the explorer notebook in JupyterLab (fresh workspace), run all cells, wait."""
    page.goto(f"{server.base}/lab/tree/{NOTEBOOK}?token={server.token}&reset",
              timeout=timeout_ms)  # fmt: skip
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext",
        timeout=timeout_ms,
    )
    page.evaluate(
        """async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.context.ready;
            await panel.sessionContext.ready;
            await window.jupyterapp.commands.execute('notebook:run-all-cells');
        }"""
    )
    explorer = ExplorerPage(page)
    explorer.wait_until_done(timeout_ms)
    return explorer


def open_in_voila(page, server: Server, query: str = "", timeout_ms: float = 120_000):
    """Open the Voila page (it runs the notebook itself) and wait for the first picture."""
    page.goto(f"{server.base}/{query}", timeout=timeout_ms)
    explorer = ExplorerPage(page)
    explorer.wait_until_done(timeout_ms)
    config = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    if config.get("kernelId"):
        server.kernel_ids.add(config["kernelId"])
    return explorer
