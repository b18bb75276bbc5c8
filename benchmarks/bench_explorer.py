"""Explorer latency: the engine alone, the drawing, and a real browser from key press to picture.

``make bench`` calls ``main()``. The browser part serves the explorer with
the command of ``make explore`` (Voila), drives Debian's chromium through
Playwright, moves the lambda slider (0.7 <-> 0.5) and the keep_prob slider
(0.86 <-> 0.85) with the keyboard, and reads the page's own timestamps:
from the key press to the first new boundary picture decoded in the page,
and to the picture of the finished 30000-iteration run. Goals: first
picture <= 300 ms, finished <= 1.5 s (medians). All figures are medians,
printed with the 1-min load average and the CPU time per move of the
kernel, the browser and the server (the work a move costs, which the
load average does not change much).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from reg_utils import (
    backward_propagation,
    compute_cost,
    engine,
    explorer,
    forward_propagation,
    gradient_descent,
    initialize_parameters,
    load_2D_dataset,
)

REPEATS = 7
BROWSER_MOVES = 10


def _median_ms(samples) -> str:
    return f"{1000 * statistics.median(samples):7.1f} ms"


def _time(function, repeats=REPEATS):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def engine_figures() -> None:
    """Compile/load time, 30000 iterations per regularizer, and the NumPy path for scale."""
    start = time.perf_counter()
    engine.warm_up(wait=True)
    print(f"engine ready (compiled, or loaded from numba's cache): {time.perf_counter() - start:.2f} s")
    X, Y, test_X, test_Y = load_2D_dataset()
    start_params = initialize_parameters([2, 20, 3, 1])
    print(f"30000 iterations on the football data, median of {REPEATS}:")
    for name, lambd, keep_prob in (("none", 0.0, 1.0), ("L2 lambda=0.7", 0.7, 1.0),
                                   ("dropout keep_prob=0.86", 0.0, 0.86),
                                   ("both", 0.7, 0.86)):  # fmt: skip

        def run(lambd=lambd, keep_prob=keep_prob):
            trainer = engine.Trainer(X, Y, start_params, learning_rate=0.3, lambd=lambd,
                                     keep_prob=keep_prob, X_test=test_X, Y_test=test_Y,
                                     record_every=100)  # fmt: skip
            trainer.step(30000)

        print(f"  engine, {name:<24} {_median_ms(_time(run))}")
    m = X.shape[1]

    def numpy_l2():
        def cost(a3, Y, p):
            return compute_cost(a3, Y) + 0.7 / (2 * m) * sum(
                float(np.sum(np.square(p[f"W{k}"]))) for k in (1, 2, 3)
            )

        def backward(X, Y, cache):
            grads = dict(backward_propagation(X, Y, cache))
            for k, W in zip((1, 2, 3), (cache[2], cache[6], cache[10]), strict=True):
                grads[f"dW{k}"] = grads[f"dW{k}"] + 0.7 / m * W
            return grads

        params = {key: value.copy() for key, value in start_params.items()}
        gradient_descent(X, Y, params, forward_propagation, cost, backward, 0.3, 30000,
                         print_every=None)  # fmt: skip

    print(f"  NumPy kit path, L2 (1 run, for scale) {_median_ms(_time(numpy_l2, 1))}")


def drawing_figures() -> None:
    """The two pictures of a frame, drawn from a finished run."""
    app = explorer.RegularizationExplorer(start=False)
    try:
        app.set(lambd=0.7)
        app.wait(120)
        frame = app.shown
        with explorer._MPL_LOCK:
            boundary = _time(lambda: app.live.boundary.paint(frame.parameters, frame.data, True), 15)
            curves = _time(lambda: app.live.curves.paint(frame, app.live.initial_norms), 15)
        print(f"drawing, median of 15: boundary picture {_median_ms(boundary)}, "
              f"curves and norms {_median_ms(curves)}")  # fmt: skip
    finally:
        app.close()


def student_figures() -> None:
    """Student mode: a setting change to the first picture, with the learner's NumPy functions.

    The instructor's solutions stand in for the learner's; in-process (no
    browser), dropout, keep_prob 0.85 <-> 0.86 (the slow case: two NumPy
    passes per iteration and the reseeding of every forward pass).
    """
    try:
        from autograder.reference import reference_solutions

        functions = reference_solutions()
    except (ImportError, LookupError, OSError) as exc:
        print(f"student mode skipped: the instructor's solutions are not available ({exc})")
        return
    app = explorer.RegularizationExplorer(functions, start=False, regularizer="dropout",
                                          num_iterations=2000)  # fmt: skip
    state, firsts = app.state, []
    try:
        for index in range(REPEATS):
            start = time.perf_counter()
            app.set(keep_prob=(0.85, 0.86)[index % 2])
            with state.lock:
                while state.shown is None or state.shown.generation != state.generation:
                    if app.failed() or time.perf_counter() - start > 120:
                        raise RuntimeError("student mode: the run failed or drew nothing within 120 s")
                    state.wake.wait(1.0)
            firsts.append(time.perf_counter() - start)
            app.wait(120)
    finally:
        app.close()
    print(f"student mode (dropout, NumPy functions), setting change to first picture in the app, "
          f"median of {REPEATS}: {_median_ms(firsts)} (goal 300 ms; a browser adds transport)")  # fmt: skip


def _descendants_cpu() -> dict[int, tuple[str, float]]:
    """{pid: (kind, CPU seconds so far)} of this process's descendants; kind: kernel, server, browser.

    Unlike wall-clock latencies these hardly depend on what else the
    machine runs: they say how much work a slider move asks for.
    """
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmd:
                fields = stat.read().rsplit(")", 1)[1].split()
                command = cmd.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        info[pid] = (command, (int(fields[11]) + int(fields[12])) / tick)
    found = {}
    stack = list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        command, seconds = info.get(pid, ("", 0.0))
        # chromium's processes and Playwright's driver are the browser
        kind = "kernel" if "ipykernel" in command else "server" if "voila" in command else "browser"
        found[pid] = (kind, seconds)
    return found


def _cpu_between(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds by kind used between two ``_descendants_cpu()`` readings.

    A process that ended in between is not counted (its time is gone from /proc),
    so the figures are lower bounds.
    """
    totals = {"kernel": 0.0, "server": 0.0, "browser": 0.0}
    for pid, (kind, seconds) in after.items():
        totals[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    return totals


def _moves(explorer_page, slider, keys, n):
    """First-picture ms, finished ms, (load before, after), CPU s per move by kind; ``n`` key presses."""
    page = explorer_page.page
    firsts, finished = [], []
    load_before = os.getloadavg()[0]
    cpu_before = _descendants_cpu()
    for index in range(n):
        explorer_page.handle(slider).focus()
        explorer_page.start_recording()
        page.keyboard.press(keys[index % 2])
        explorer_page.wait_until_done(60_000)
        page.wait_for_timeout(150)  # let the load event of the last picture land
        first, last = explorer_page.latencies()
        firsts.append(first)
        finished.append(last)
    cpu = {kind: seconds / n for kind, seconds in _cpu_between(cpu_before, _descendants_cpu()).items()}
    return firsts, finished, (load_before, os.getloadavg()[0]), cpu


def browser_figures() -> None:
    """Key press to picture in Chromium, against the Voila page of ``make explore``."""
    from tests import browser_util as bu

    reason = bu.chromium_missing()
    if reason:
        print(f"browser latencies skipped: {reason}")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-explorer-") as workdir:
        server = bu.start_server(bu.voila_server, Path(workdir))
        try:
            with sync_playwright() as playwright:
                chromium = bu.launch_chromium(playwright)
                try:
                    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
                    explorer_page = bu.open_in_voila(page, server)
                    lam = _moves(explorer_page, "lambda", ("ArrowLeft", "ArrowRight"),
                                 BROWSER_MOVES)  # fmt: skip
                    page.locator(".rex-regularizer button", has_text="dropout").click()
                    explorer_page.wait_until_done(60_000)
                    kp = _moves(explorer_page, "keep-prob", ("ArrowLeft", "ArrowRight"),
                                BROWSER_MOVES)  # fmt: skip
                finally:
                    chromium.close()
        finally:
            server.stop()
    print(f"browser (Voila page, chromium), key press to decoded picture, median of "
          f"{BROWSER_MOVES} moves; 1-min load average before -> after the moves, "
          f"{os.cpu_count()} CPUs:")  # fmt: skip
    scenarios = (("L2, lambda 0.7 <-> 0.5", lam), ("dropout, keep_prob 0.86 <-> 0.85", kp))
    for name, (firsts, finished, (before, after), cpu) in scenarios:
        print(f"  {name:<34} first picture {statistics.median(firsts):6.0f} ms "
              f"(goal 300), finished 30000 iterations {statistics.median(finished):6.0f} ms "
              f"(goal 1500); finished min/max {min(finished):.0f}/{max(finished):.0f} ms; "
              f"load {before:.2f} -> {after:.2f}")  # fmt: skip
        print(f"  {'':<34} CPU per move: kernel {1000 * cpu['kernel']:.0f} ms, "
              f"browser {1000 * cpu['browser']:.0f} ms, server {1000 * cpu['server']:.0f} ms")  # fmt: skip


def main() -> None:
    """Print the explorer's figures: engine, drawing, browser."""
    print("== Explorer ==")
    engine_figures()
    drawing_figures()
    student_figures()
    browser_figures()


if __name__ == "__main__":
    main()
