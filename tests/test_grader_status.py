"""The status file: a change costs one appended line whatever the class size, and survives a crash."""

from __future__ import annotations

import itertools
import json

from autograder.grader.gradebook import StatusFile, read_status


def test_a_change_appends_one_line_and_leaves_the_snapshot_alone(tmp_path):
    status = StatusFile(tmp_path)
    status.set("ada", status="ok", scores={"f": 10.0})
    status.compact()
    snapshot = (tmp_path / ".grading" / "status.json").read_bytes()
    sizes = []
    for n in range(300):
        status.set(f"s{n:03d}", status="grading", digest="x" * 16)
        sizes.append(status.log_path.stat().st_size)
    steps = {b - a for a, b in itertools.pairwise(sizes)}
    assert len(steps) == 1  # each change wrote one line of the same size, not the whole class
    assert (tmp_path / ".grading" / "status.json").read_bytes() == snapshot
    entries = read_status(tmp_path)
    assert len(entries) == 301
    assert entries["ada"]["scores"] == {"f": 10.0}
    assert entries["s299"]["status"] == "grading"
    status.compact()
    assert not status.log_path.exists()
    assert json.loads((tmp_path / ".grading" / "status.json").read_text())["students"] == entries


def test_a_line_cut_by_a_crash_is_ignored_and_the_last_change_wins(tmp_path):
    status = StatusFile(tmp_path)
    status.set("ada", status="grading", digest="1")
    status.set("ada", status="ok", digest="1")
    status.set("bob", status="grading", digest="2")
    with open(status.log_path, "a", encoding="utf-8") as log:  # the grader died mid-line
        log.write('{"student": "bob", "entry": {"status": "o')
    again = StatusFile(tmp_path)
    assert {s: e["status"] for s, e in again.entries.items()} == {"ada": "ok", "bob": "grading"}
    assert again.half_graded() == ["bob"]
    status.compact()
    again.compact()
