"""Progress while a batch runs, and the summary table at its end.

On a terminal: one line redrawn in place, a bar with done / failed / ETA and
the students being graded. Anywhere else (CI logs, pipes): one plain line
per finished student.
"""

from __future__ import annotations

import shutil
import sys
import time

from .bounds import TERMINAL_REASON_CHARS
from .text import terminal

#: Column headers of the graded functions in the summary table.
SHORT_NAMES = {
    "compute_cost_with_regularization": "L2 cost",
    "backward_propagation_with_regularization": "L2 back",
    "forward_propagation_with_dropout": "drop fwd",
    "backward_propagation_with_dropout": "drop back",
}
OK_STATUSES = ("ok",)


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Reports each finished student; on a TTY a live bar, else plain lines."""

    def __init__(
        self, total: int, stream=None, tty: bool | None = None, max_score: float = 40.0, banner: str = ""
    ):
        self.banner = banner  # said on every line (e.g. that nothing is sandboxed)
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.max_score = total, max_score
        self.done = self.failed = 0
        self.running: list[str] = []
        self.start = time.monotonic()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def started(self, student: str) -> None:
        self.running.append(terminal(student, 60))
        if self.tty:
            self._draw()

    def finished(self, result) -> None:
        if terminal(result.student, 60) in self.running:
            self.running.remove(terminal(result.student, 60))
        self.done += 1
        self.failed += result.status not in OK_STATUSES
        if self.tty:
            self._draw()
        else:
            detail = f" - {terminal(result.reason, TERMINAL_REASON_CHARS)}" if result.reason else ""
            self._write(
                f"{self.banner}[{self.done}/{self.total}] {terminal(result.student, 60)}: "
                f"{result.total:g}/{self.max_score:g} {result.status} ({result.seconds:.1f} s){detail}\n"
            )

    def _draw(self) -> None:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta_text = _clock(eta) if self.done else "?"
        line = (
            f"{self.banner}[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} done, "
            f"{self.failed} failed, ETA {eta_text}  {', '.join(self.running)}"
        )
        columns = shutil.get_terminal_size((100, 20)).columns
        self._write("\r" + line[: columns - 1].ljust(columns - 1))

    def close(self) -> None:
        if self.tty:
            self._write("\n")


def summary_table(results, functions, max_score: float = 40.0, banner: str = "") -> str:
    """A fixed-width table: student, score per function, total, status, reason (terminal-safe text).

    ``banner`` starts every line, so a fact that qualifies every grade (no sandbox) is never missed.
    """
    headers = ["student", *(SHORT_NAMES.get(f, f) for f in functions), "total", "status", "reason"]
    rows = []
    for result in results:
        rows.append(
            [
                terminal(result.student, 60),
                *(f"{result.scores.get(f, 0.0):g}" for f in functions),
                f"{result.total:g}/{max_score:g}",
                result.status,
                terminal(result.reason, 90),
            ]
        )
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers) - 1)]
    lines = []
    for row in [headers, *rows]:
        cells = [str(value).ljust(width) for value, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    lines.insert(1, "-" * min(len(max(lines, key=len)), 140))
    return "\n".join(banner + line for line in lines)
