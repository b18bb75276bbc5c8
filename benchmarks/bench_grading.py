"""Grading benchmark: 40 generated submissions graded with JOBS=1 and JOBS=2, full and points-only mode.

The submissions mix correct work (25, one of them renamed), catalogued
mistakes (8), unanswered releases (3), crashes (2: ``os._exit`` and a
segfault in a graded function) and unreadable files (2: not JSON, empty).
No submission hangs: a hang costs a timeout, which is waiting, not work,
and would flatter the parallel speed-up. Prints the
wall time per submission for each JOBS, the speed-up, and with ``--stock N``
the wall time per submission of stock ``nbgrader autograde`` on N correct
submissions, for comparison; then points mode on a Dask LocalCluster of 1
and 2 workers beside the local batch at JOBS=2, taking turns (median of
``--cluster-repeats`` runs each, 0 to skip). Every run must give the
expected grades.

The headline is the wall time per *correct* submission at JOBS=2 in each mode,
the median of ``--runs`` runs over the 24 correct submissions, beside stock
nbgrader, with the estimate for 10,000 submissions; for points mode also in a
running batch, its start-up (imports of the fork server, the gradebook) apart:
the 24 graded alone and with 24 copies, the difference per copy. The points
goal is judged there, since a class of 10,000 pays the start-up once. Where the benchmark may
make a cpuacct cgroup (root, cgroup v1), it also prints the CPU seconds per
submission of grader and sandboxes together: on a shared machine the wall time
follows the load, the CPU time much less.

    python -m benchmarks.bench_grading [--runs N] [--stock N] [--keep] [--cluster-repeats R]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 4.0  # wall per correct submission at JOBS=2, amortised
GOAL_POINTS_SECONDS = 0.25  # the same in points-only mode (MODE=points)
ESTIMATE_FOR = 10_000  # submissions in the class-size estimate
GOAL_SPEEDUP = 1.7
RESULTS = Path(__file__).resolve().parent / "results" / "grading.json"


def build_submissions(root: Path) -> dict[str, float]:
    """Write the 40 submissions under ``root/submitted``; return the expected total per student."""
    from autograder.mistakes import CATALOGUE, mistaken_cell
    from tests import corpus  # the fault and cheat corpus of the tests, shared with this benchmark

    ctx = corpus.Context(corpus.release_notebook(root), root, Path(__file__).resolve().parents[1])
    by_name = {e.name: e for e in corpus.entries(ctx)}
    expected: dict[str, float] = {}

    def put(student: str, files: dict[str, bytes], total: float) -> None:
        folder = root / "submitted" / student / "regularization"
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        expected[student] = total

    for n in range(24):
        put(f"correct_{n:02d}", corpus.files(corpus.answered(ctx)), 40.0)
    for mistake in CATALOGUE[::2][:8]:
        source = corpus._MARKERS.sub("", mistaken_cell(mistake))
        put(f"mistake_{mistake.id}", corpus.files(corpus.answered(ctx, {mistake.function: source})), None)
    for n in range(3):
        put(f"unanswered_{n}", corpus.files(ctx.release), 0.0)
    for name in ("os_exit_in_dropout_forward", "segfault_in_dropout_backward", "not_json", "empty_file"):
        entry = by_name[name]
        put(name, entry.build(ctx), sum(entry.scores.values()))
    put("renamed", corpus.files(corpus.answered(ctx), "Regularization (3).ipynb"), 40.0)
    assert len(expected) == 40, len(expected)
    return expected


def grade(root: Path, jobs: int, mode: str = "full", students: list[str] | None = None) -> tuple[float, list]:
    from autograder.grader.batch import Options, grade_course

    start = time.perf_counter()
    results = grade_course(root, Options(jobs=jobs, mode=mode, students=students, stream=io.StringIO()))
    return time.perf_counter() - start, results


def cluster_rows(root: Path, expected: dict, repeats: int) -> dict:
    """Points mode on a LocalCluster of 1 and 2 workers, beside the local batch at JOBS=2, alternated.

    A cluster run resumes, so each timed run starts from an empty status file
    (everything is graded again). A cluster's fixed cost (starting it and its
    fork servers, closing it) is the median of runs where every submission is
    unchanged; its cost per submission is what the full runs take beyond it.
    The three set-ups take turns, so a change of load hits each alike.
    """
    from statistics import median

    from autograder.grader.batch import Options, grade_course

    status = root / ".grading" / "status.json"
    setups = {"JOBS=2 (local batch)": None, "CLUSTER=local:1": "local:1", "CLUSTER=local:2": "local:2"}
    walls: dict[str, list[float]] = {name: [] for name in setups}
    fixed: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(repeats):
        for name, cluster in setups.items():
            options = Options(jobs=2, mode="points", cluster=cluster, stream=io.StringIO())
            status.unlink(missing_ok=True)
            status.with_suffix(".log").unlink(missing_ok=True)
            start = time.perf_counter()
            results = grade_course(root, options)
            walls[name].append(time.perf_counter() - start)
            check(results, expected)
            if cluster is None:
                fixed[name].append(0.0)
                continue
            start = time.perf_counter()
            results = grade_course(root, options)  # nothing changed: nothing is sent
            fixed[name].append(time.perf_counter() - start)
            assert {r.status for r in results} == {"unchanged"}, results
    rows = {}
    for name in setups:
        wall, overhead = median(walls[name]), median(fixed[name])
        per = max(wall - overhead, 0.0) / len(expected)
        rows[name] = {"wall": wall, "fixed": overhead, "per_submission": per}
        print(f"  MODE=points {name}: {wall:6.1f} s wall (median of {repeats}), {overhead:.1f} s of it "
              f"to start and close a cluster, {per:5.2f} s per submission; "
              f"{ESTIMATE_FOR:,} submissions: {(overhead + per * ESTIMATE_FOR) / 3600:.2f} h")  # fmt: skip
    one, two = rows["CLUSTER=local:1"]["per_submission"], rows["CLUSTER=local:2"]["per_submission"]
    print(f"  LocalCluster 2 workers vs 1, per submission: {one / max(two, 1e-9):.2f}x")
    return rows


def check(results, expected: dict) -> None:
    got = {r.student: r.total for r in results}
    wrong = {s: (got.get(s), t) for s, t in expected.items() if t is not None and got.get(s) != t}
    if wrong or any(r.status == "error" for r in results):
        raise SystemExit(f"unexpected grades (got, expected): {wrong}")


def stock(root: Path, count: int) -> float:
    """Wall seconds per submission of stock `nbgrader autograde` on ``count`` correct submissions."""
    from autograder import tools

    stock_root = root.parent / "stock"
    shutil.copytree(root, stock_root, ignore=shutil.ignore_patterns("submitted", "autograded", ".grading",
                                                                    "gradebook.db"))  # fmt: skip
    for student in sorted(p.name for p in (root / "submitted").iterdir() if p.name.startswith("correct_"))[
        :count
    ]:
        shutil.copytree(root / "submitted" / student, stock_root / "submitted" / student)
    tools.release(stock_root, publish=False)
    start = time.perf_counter()
    tools.autograde_stock(stock_root)
    seconds = time.perf_counter() - start
    rows = tools.grade_rows(stock_root)
    if len(rows) != count or any(row["total"] != 40 for row in rows):
        raise SystemExit(f"stock nbgrader gave unexpected grades: {rows}")
    return seconds / count


class CpuMeter:
    """CPU seconds used by this process and every process it starts (sandboxes included), if measurable.

    A cpuacct cgroup (cgroup v1, as root) counts the whole tree; elsewhere ``seconds`` is None.
    """

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self):
        self.group = None
        with contextlib.suppress(OSError):
            group = self.ROOT / f"bench-grading-{os.getpid()}"
            group.mkdir()
            (group / "cgroup.procs").write_text(str(os.getpid()))
            self.group = group

    def seconds(self) -> float | None:
        if self.group is None:
            return None
        return int((self.group / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.group is None:
            return
        with contextlib.suppress(OSError):  # back to the parent group, then the empty group can go
            (self.group.parent / "cgroup.procs").write_text(str(os.getpid()))
            self.group.rmdir()


def per_correct(root: Path, mode: str, students: list[str], expected: dict, runs: int, meter: CpuMeter):
    """Median wall and CPU seconds per submission over ``runs`` gradings of ``students`` at JOBS=2."""
    walls, cpus = [], []
    for _ in range(runs):
        before = meter.seconds()
        wall, results = grade(root, 2, mode, students)
        check(results, {s: expected[s] for s in students})
        walls.append(wall / len(students))
        if before is not None:
            cpus.append((meter.seconds() - before) / len(students))
    return statistics.median(walls), (statistics.median(cpus) if cpus else None), walls


def steady_state(root: Path, students: list[str], runs: int, meter: CpuMeter) -> dict:
    """Points mode once a batch is running: what each further correct submission costs, start-up excluded.

    A batch pays once for its fork server's imports and the gradebook (about 1.5 s),
    which a batch of 24 spreads as some 60 ms per submission and a class of 10,000 as
    none. ``students`` (correct ones, n of them) are graded alone, then with as many
    copies, taking turns ``runs`` times: ``(T(2n) - T(n)) / n`` is the cost per
    submission, and what ``T(n)`` spends beyond n of those is the start-up (medians).
    """
    submitted = root / "submitted"
    everyone = [*students, *(f"again_{s}" for s in students)]
    for student, copy in zip(students, everyone[len(students) :], strict=True):
        shutil.copytree(submitted / student, submitted / copy)
    full_marks = dict.fromkeys(everyone, 40.0)
    walls: dict[int, list[float]] = {len(students): [], len(everyone): []}
    cpus: dict[int, list[float]] = {len(students): [], len(everyone): []}
    try:
        for _ in range(runs):
            for group in (students, everyone):
                wall, cpu, _ = per_correct(root, "points", group, full_marks, 1, meter)
                walls[len(group)].append(wall * len(group))
                if cpu is not None:
                    cpus[len(group)].append(cpu * len(group))
    finally:
        for copy in everyone[len(students) :]:
            shutil.rmtree(submitted / copy, ignore_errors=True)
    n = len(students)
    small, large = statistics.median(walls[n]), statistics.median(walls[2 * n])
    per = (large - small) / n
    cpu = (statistics.median(cpus[2 * n]) - statistics.median(cpus[n])) / n if cpus[n] else None
    return {"per_submission": per, "cpu_per_submission": cpu, "startup": small - n * per,
            "small_walls": walls[n], "large_walls": walls[2 * n], "n": n}  # fmt: skip


def _cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="runs per mode for the medians (default 3)")
    parser.add_argument("--stock", type=int, default=2, help="time stock nbgrader on N submissions (0: no)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark course folder")
    parser.add_argument("--cluster-repeats", type=int, default=3, help="runs per LocalCluster size (median)")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    from tests import corpus  # the fault and cheat corpus of the tests, shared with this benchmark

    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    meter = CpuMeter()
    try:
        root = corpus.make_course(base / "course")
        expected = build_submissions(root)
        count = len(expected)
        correct_students = sorted(s for s in expected if s.startswith("correct_"))
        correct = len(correct_students)
        load = os.getloadavg()[0]
        print(f"grading {count} submissions ({correct} correct, the rest faulty) on {os.cpu_count()} CPUs "
              f"(load average {load:.1f} at the start)")  # fmt: skip
        warm = time.perf_counter()
        from autograder.grader.batch import Options, grade_course

        grade_course(root, Options(jobs=2, students=["correct_00", "correct_01"], stream=io.StringIO()))
        print(f"  warm-up (2 submissions): {time.perf_counter() - warm:.1f} s")
        walls = {}
        for jobs in (1, 2):
            walls[jobs], results = grade(root, jobs)
            check(results, expected)
            mean_correct = sum(r.seconds for r in results if r.student.startswith("correct_")) / correct
            print(f"  JOBS={jobs}: {walls[jobs]:6.1f} s wall, {walls[jobs] / count:5.2f} s per submission "
                  f"(one correct submission takes {mean_correct:.1f} s in its sandbox)")  # fmt: skip
        speedup = walls[1] / walls[2]
        per_submission = walls[2] / count
        print(f"  speed-up JOBS=2 vs JOBS=1: {speedup:.2f}x (goal >= {GOAL_SPEEDUP}x)")
        print(f"  wall per submission at JOBS=2: {per_submission:.2f} s (goal <= {GOAL_SECONDS:.0f} s)")
        points_all, results = grade(root, 2, "points")
        check(results, expected)
        per_points = points_all / count
        print(f"  MODE=points JOBS=2, the whole mix: {points_all:6.1f} s wall, {per_points:5.2f} s each")
        timed = {
            mode: per_correct(root, mode, correct_students, expected, args.runs, meter)
            for mode in ("points", "full")
        }
        (points, points_cpu, points_runs), (full, full_cpu, full_runs) = timed["points"], timed["full"]
        hours = ESTIMATE_FOR / 3600
        print(f"\n  correct submissions at JOBS=2, median of {args.runs} runs of {correct}:")
        print(f"  {'grader':<16} {'wall per submission':>20} {'CPU per submission':>19} "
              f"{f'{ESTIMATE_FOR:,} submissions':>19}")  # fmt: skip
        print(f"  {'points mode':<16} {points:>18.3f} s {_cpu(points_cpu):>19} {points * hours:>17.2f} h")
        print(f"  {'full mode':<16} {full:>18.3f} s {_cpu(full_cpu):>19} {full * hours:>17.2f} h")
        record = {
            "submissions": count, "wall_jobs1": walls[1], "wall_jobs2": walls[2], "speedup": speedup,
            "per_submission_jobs2": per_submission, "points_wall_jobs2": points_all,
            "points_per_submission_jobs2": per_points, "points_per_correct_jobs2": points,
            "points_per_correct_runs": points_runs, "points_cpu_per_correct": points_cpu,
            "full_per_correct_jobs2": full, "full_per_correct_runs": full_runs,
            "full_cpu_per_correct": full_cpu,
            "runs": args.runs, "load_average_start": load, "cpus": os.cpu_count(),
            "python": platform.python_version(), "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }  # fmt: skip
        steady = steady_state(root, correct_students, max(args.runs, 5), meter)
        record["points_steady_state"] = steady
        print(f"  {'points, running':<16} {steady['per_submission']:>18.3f} s "
              f"{_cpu(steady['cpu_per_submission']):>19} "
              f"{(steady['startup'] + steady['per_submission'] * ESTIMATE_FOR) / 3600:>17.2f} h"
              f"   (a batch's start-up excluded: {steady['startup']:.1f} s once; "
              f"{correct} and {2 * correct} graded in turns, medians of {max(args.runs, 5)})")  # fmt: skip
        if args.stock:
            per_stock = stock(root, args.stock)
            record["stock_per_submission"] = per_stock
            print(f"  {'stock nbgrader':<16} {per_stock:>18.3f} s {'n/a':>19} {per_stock * hours:>17.2f} h"
                  f"   ({args.stock} graded, one run)")  # fmt: skip
        if args.cluster_repeats > 0:
            rows = cluster_rows(root, expected, args.cluster_repeats)
            record["points_alternated"] = rows
        verdict = "met" if steady["per_submission"] <= GOAL_POINTS_SECONDS else "NOT met"
        print(f"  points mode: {full / points:.1f}x less wall than full mode; "
              f"goal <= {GOAL_POINTS_SECONDS} s per correct submission in a running batch: {verdict} "
              f"({steady['per_submission']:.3f} s; {points:.3f} s in a batch of {correct} with its start-up; "
              f"load average {os.getloadavg()[0]:.1f} at the end)")  # fmt: skip
        print(f"  estimate for {ESTIMATE_FOR:,} submissions of this mix at JOBS=2 on this machine: "
              f"full {per_submission * ESTIMATE_FOR / 3600:.1f} h, "
              f"points {per_points * ESTIMATE_FOR / 3600:.2f} h")  # fmt: skip
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    finally:
        meter.close()
        if args.keep:
            print(f"course kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
