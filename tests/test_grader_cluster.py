"""Grading on Dask: same grades as a local batch, and the faults of a cluster (worker, client, poison).

One scheduler and two workers are started as separate ``dask scheduler`` /
``dask worker`` processes on loopback (free ports, readiness read from their
logs and the scheduler, never waited for by the clock) and shared by the
tests; the comparison also runs a LocalCluster. Points mode keeps every run
short; the verdicts are the full mode's (tests/test_grader_points.py).
Faults are injected from the instructor's side (``worker.FaultInjection``):
a process is killed at a moment the task announces through a Dask Event.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograder.grader.batch import GradingError, Options, grade_course
from autograder.grader.cluster import ClusterBatch, pack_files
from autograder.grader.gradebook import read_status
from autograder.grader.sandbox import REPO_ROOT, Limits
from autograder.grader.worker import FaultInjection, kit_digest, unpack_files
from autograder.hidden_checks import CHECKS
from autograder.reference import ASSIGNMENT
from tests import corpus

SAMPLES = Path(__file__).parent / "submissions"
BIN = Path(sys.executable).parent
#: Every sample submission: full marks, each catalogued mistake, an unanswered release.
SAMPLE_NAMES = tuple(sorted(p.name for p in SAMPLES.iterdir()))
#: The corpus's limits: an infinite loop costs 6 s per hidden test, not 10 (three tests of the cost hang).
LIMITS = Limits(cell_timeout=12, check_timeout=6, startup_timeout=90)
#: Far above any step of these runs; only a broken cluster waits this long.
PATIENCE = 240


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def template(tmp_path_factory, built_once) -> Path:
    """A released course with nothing submitted, copied by each test."""
    built_once("cluster_template")
    return corpus.make_course(tmp_path_factory.mktemp("cluster") / "template")


def _course(template: Path, base: Path, samples=(), entries=(), copies: dict | None = None) -> Path:
    root = base / "course"
    shutil.copytree(template, root)
    for name in samples:
        target = root / "submitted" / name / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(SAMPLES / name / "Regularization.ipynb", target)
    for student, sample in (copies or {}).items():
        target = root / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(SAMPLES / sample / "Regularization.ipynb", target)
    if entries:
        ctx = corpus.Context(corpus.release_notebook(root), root, REPO_ROOT, 0)
        for entry in corpus.entries(ctx):
            if entry.name in entries:
                corpus.write_submission(entry, ctx)
    return root


def _line(stream, pattern: str) -> str:
    """Read ``stream`` until a line matches ``pattern``; the match (the process said it is ready)."""
    for raw in stream:
        found = re.search(pattern, raw.decode(errors="replace"))
        if found:
            return found.group(1)
    raise AssertionError(f"the process ended before printing {pattern!r}")


class _Drain(threading.Thread):
    """Keeps reading a process's log so it never blocks on a full pipe."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream

    def run(self):
        for _ in self.stream:
            pass


@pytest.fixture(scope="module")
def scheduler():
    """``tcp://127.0.0.1:PORT`` of a separately started scheduler with two workers (nanny-restarted).

    allowed-failures=1: a task whose worker dies is retried once, then fails with KilledWorker.
    """
    from distributed import Client

    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1",
    )
    processes, drains = [], []
    try:
        sched = subprocess.Popen(
            [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--dashboard-address", "127.0.0.1:0"],
            stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        processes.append(sched)
        address = _line(sched.stderr, r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)")
        workers = subprocess.Popen(
            [BIN / "dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--memory-limit", "0",
             "--host", "127.0.0.1", "--no-dashboard"],
            stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        processes.append(workers)
        drains = [_Drain(process.stderr) for process in processes]
        for drain in drains:
            drain.start()
        with Client(address, timeout=PATIENCE) as client:
            client.wait_for_workers(2, timeout=PATIENCE)
        yield address
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for drain in drains:
            drain.join(PATIENCE)
        for process in processes:
            process.stderr.close()


def _grades(root: Path) -> dict:
    """Per student: status, score per function, each hidden test's verdict, reason (the status file)."""
    entries = read_status(root)
    return {
        student: (e["status"], e["scores"], e["checks"], e["reason"])
        for student, e in entries.items()
        if e["status"] != "grading"
    }


def _once_each(root: Path) -> dict:
    """Per student, the gradebook's score per grade cell; checks each student has exactly one submission."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(ASSIGNMENT):
            student = submission.student.id
            assert student not in scores, f"{student} has two submissions"
            (notebook,) = submission.notebooks
            scores[student] = {grade.name: grade.auto_score for grade in notebook.grades}
            assert sorted(scores[student]) == sorted(CHECKS)
    return scores


def _quiet(**kw) -> Options:
    return Options(mode="points", stream=io.StringIO(), tty=False, **kw)


# ------------------------------------------------------------------ pure parts


def test_packed_files_are_the_sandboxs_copy_and_stay_in_their_folder(tmp_path):
    folder = tmp_path / "in"
    (folder / "data").mkdir(parents=True)
    (folder / "Regularization.ipynb").write_bytes(b"{}")
    (folder / "data" / "big.bin").write_bytes(b"x" * 100)
    (folder / "link").symlink_to("/etc/passwd")
    packed = pack_files(folder, budget=50)
    assert packed == [("Regularization.ipynb", b"{}"), ("data", None)]  # over budget: left out; no link
    out = unpack_files([*packed, ("data/a.txt", b"a")], tmp_path / "out")
    assert (out / "data" / "a.txt").read_bytes() == b"a"
    with pytest.raises(ValueError, match="leaves the folder"):
        unpack_files([("../escape", b"x")], tmp_path / "out2")


def test_the_kit_hash_changes_with_any_kit_source(tmp_path):
    for package in ("autograder", "reg_utils", "testCases"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "m.py").write_text("x = 1\n")
    before = kit_digest(tmp_path)
    (tmp_path / "testCases" / "m.py").write_text("x = 2\n")
    assert kit_digest(tmp_path) != before
    assert len(kit_digest()) == 64


def test_an_unknown_cluster_is_a_clear_error(template, tmp_path):
    root = _course(template, tmp_path, samples=("correct",))
    with pytest.raises(GradingError, match=r"use local:N or tcp://HOST:PORT"):
        grade_course(root, _quiet(cluster="slurm://x"))


def test_both_command_lines_pass_the_cluster_through(monkeypatch, tmp_path):
    from autograder import tools
    from autograder.grader.__main__ import options_from, parser

    assert options_from(parser().parse_args(["--cluster", "local:3"])).cluster == "local:3"
    assert options_from(parser().parse_args([])).cluster is None
    seen = {}
    monkeypatch.setattr(tools, "grade_submissions", lambda root, **kw: seen.update(kw) or [])
    assert tools.main(["autograde", "--course-root", str(tmp_path), "--cluster", "tcp://h:1"]) == 0
    assert seen["cluster"] == "tcp://h:1"


# ------------------------------------------------------------------ same grades everywhere


@pytest.fixture(scope="module")
def everywhere(template, tmp_path_factory, scheduler) -> dict:
    """Every sample and every corpus entry, graded here (JOBS=2), on a LocalCluster and on ``scheduler``.

    Per set-up: the status file's grades and the gradebook's scores. The corpus's
    network entries get a port that listens on the host for the whole run.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    grades = {}
    try:
        for where, cluster in (("local", None), ("localcluster", "local:2"), ("tcp", scheduler)):
            root = _course(template, tmp_path_factory.mktemp(where), SAMPLE_NAMES)
            ctx = corpus.Context(corpus.release_notebook(root), root, REPO_ROOT, server.getsockname()[1])
            for entry in corpus.entries(ctx):
                corpus.write_submission(entry, ctx)
            results = grade_course(root, _quiet(jobs=2, cluster=cluster, limits=LIMITS))
            grades[where] = ({r.student: r for r in results}, _grades(root), _once_each(root))
    finally:
        server.close()
    return grades


def test_points_mode_gives_every_corpus_entry_its_expected_scores(everywhere):
    """The corpus's expected scores are the full mode's (tests/test_grader_corpus.py checks those)."""
    results = everywhere["local"][0]
    entries = corpus.entries(corpus.Context({}, Path(), Path(), port=1))
    assert {e.name: results[e.name].scores for e in entries} == {e.name: e.scores for e in entries}


def test_local_localcluster_and_tcp_scheduler_give_identical_grades(everywhere):
    entries = corpus.entries(corpus.Context({}, Path(), Path(), port=1))
    names = sorted([*SAMPLE_NAMES, *(e.name for e in entries)])
    # An entry that races its own sandbox's end has two right statuses (tests/corpus); its scores are one.
    racing = {e.name for e in entries if isinstance(e.status, tuple)}

    def grades(where: str) -> dict:
        return {
            s: (("either", g[1], g[2], "either") if s in racing else g)
            for s, g in everywhere[where][1].items()
        }

    local = everywhere["local"]
    assert sorted(local[0]) == names
    for where in ("localcluster", "tcp"):
        assert sorted(everywhere[where][0]) == names
        assert grades(where) == grades("local"), where  # status, scores, each test's verdict, reason
        assert everywhere[where][2] == local[2], where  # the gradebook: one submission each, same scores
    status = local[1]
    assert status["correct"][1] == dict.fromkeys(status["correct"][1], 10.0)
    assert sum(status["l2_grad_wrong_sign"][1].values()) == 30.0
    assert status["os_exit_in_dropout_forward"][0] == "faults"
    assert "exited with status 1" in status["os_exit_in_dropout_forward"][3]
    assert status["not_json"][0] == "invalid"


# ------------------------------------------------------------------ faults


def test_a_worker_killed_while_grading_its_submission_is_graded_elsewhere_once(template, tmp_path, scheduler):
    from distributed import Client, Event, Variable

    root = _course(template, tmp_path, copies={"victim": "correct", "bystander": "l2_grad_wrong_sign"})
    killed = {}

    def kill_the_worker_grading_victim():
        with Client(scheduler, timeout=PATIENCE) as client:
            started = Event("reg-grader-started-victim", client=client)
            killed["started"] = started.wait(timeout=PATIENCE)
            killed["pid"] = Variable("reg-grader-pid-victim", client=client).get(timeout=PATIENCE)
            os.kill(killed["pid"], signal.SIGKILL)
            Event("reg-grader-release-victim", client=client).set()

    killer = threading.Thread(target=kill_the_worker_grading_victim)
    killer.start()
    try:
        faults = FaultInjection(hold_for=("victim",))
        results = ClusterBatch(root, _quiet(cluster=scheduler), faults).run()
    finally:
        killer.join(PATIENCE)
    assert killed["started"] is True
    with Client(scheduler, timeout=PATIENCE) as client:
        graded_by = Variable("reg-grader-pid-victim", client=client).get(timeout=PATIENCE)
    assert graded_by != killed["pid"]  # the retry announced itself from another worker process
    assert sorted(r.student for r in results) == ["bystander", "victim"]
    by_student = {r.student: r for r in results}
    assert (by_student["victim"].status, by_student["victim"].total) == ("ok", 40.0)
    assert by_student["bystander"].total == 30.0
    assert sorted(_once_each(root)) == ["bystander", "victim"]


CLIENT = """
import sys
from pathlib import Path
from autograder.grader.batch import Options
from autograder.grader.cluster import ClusterBatch, FaultInjection
options = Options(mode="points", cluster=sys.argv[2], tty=False)
ClusterBatch(Path(sys.argv[1]), options, FaultInjection(client_dies_after=1)).run()
"""


def test_a_rerun_after_the_client_was_killed_skips_what_was_graded(template, tmp_path, scheduler):
    root = _course(template, tmp_path, copies={"a": "correct", "b": "l2_grad_wrong_sign"})
    client = subprocess.run(
        [sys.executable, "-c", CLIENT, str(root), scheduler],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])), capture_output=True, timeout=PATIENCE,
    )  # fmt: skip
    assert client.returncode == -signal.SIGKILL, client.stderr.decode()[-2000:]
    before = read_status(root)
    first = [s for s, e in before.items() if e["status"] == "ok"]
    assert len(first) == 1
    assert [s for s, e in before.items() if e["status"] == "grading"] == sorted({"a", "b"} - {*first})

    results = ClusterBatch(root, _quiet(cluster=scheduler)).run()
    statuses = {r.student: r.status for r in results}
    assert statuses == {s: ("unchanged" if s in first else "ok") for s in "ab"}
    totals = {s: e[1] for s, e in _grades(root).items()}
    assert {s: sum(v.values()) for s, v in totals.items()} == {"a": 40.0, "b": 30.0}
    assert sorted(_once_each(root)) == ["a", "b"]


def test_a_submission_that_kills_every_worker_gets_a_recorded_zero(template, tmp_path, scheduler):
    root = _course(template, tmp_path, copies={"poison": "correct", "fine": "correct"})
    faults = FaultInjection(kill_worker_for=("poison",))
    results = {r.student: r for r in ClusterBatch(root, _quiet(cluster=scheduler), faults).run()}
    assert (results["fine"].status, results["fine"].total) == ("ok", 40.0)
    poison = results["poison"]
    assert (poison.status, poison.total) == ("faults", 0.0)
    assert "KilledWorker" in poison.reason
    assert _once_each(root)["poison"] == dict.fromkeys(CHECKS, 0.0)
    assert _grades(root)["poison"][0] == "faults"


def test_a_worker_with_another_kit_stops_the_batch_naming_the_fix(template, tmp_path, scheduler):
    root = _course(template, tmp_path, copies={"someone": "correct"})
    batch = ClusterBatch(root, _quiet(cluster=scheduler))
    batch.kit = "0" * 64  # what the workers would see from a client on another commit
    with pytest.raises(GradingError, match=r"runs another version of the kit .*make install"):
        batch.run()
    status = read_status(root)
    assert status["someone"]["status"] == "grading"  # nothing recorded: the next run grades it


def test_a_worker_that_cannot_confine_refuses_to_grade(monkeypatch):
    from autograder.grader import worker

    monkeypatch.setattr(worker, "isolation_problem", lambda: "user namespaces are switched off")
    monkeypatch.setattr(worker._WorkerGrader, "confined", False)
    with pytest.raises(worker.WorkerUnfit, match="cannot confine submissions: user namespaces are switched"):
        worker._WorkerGrader.get(isolate=True)
    assert worker._WorkerGrader.current is None  # nothing started
