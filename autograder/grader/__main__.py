"""``python -m autograder.grader``: grade a course's submissions in sandboxes, in parallel."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from .batch import GradingError, Options, exit_status, grade_course
from .points import MODES
from .sandbox import Limits


def parser() -> argparse.ArgumentParser:
    from autograder.reference import COURSE_ROOT

    p = argparse.ArgumentParser(prog="python -m autograder.grader", description=__doc__)
    p.add_argument(
        "--course-root", type=Path, default=COURSE_ROOT, help="course folder (default: autograder/)"
    )
    p.add_argument("--jobs", "-j", type=int, default=2, help="submissions graded in parallel (default 2)")
    p.add_argument("--student", action="append", dest="students", help="grade only this student (repeatable)")
    p.add_argument(
        "--resume", action="store_true", help="skip students graded before whose files are unchanged"
    )
    p.add_argument(
        "--no-sandbox",
        "--no-isolation",
        dest="no_sandbox",
        action="store_true",
        help="grade WITHOUT namespaces (limits, scratch copy and, as root, a fresh uid only): for trusted "
        "submissions where the machine allows no user namespaces; every summary line says so",
    )
    p.add_argument("--progress", choices=["auto", "bar", "lines"], default="auto")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="full",
        help="full: run the whole notebook (default); points: only the cells the graded functions need",
    )
    p.add_argument(
        "--gradebook",
        metavar="URL",
        help="gradebook database, e.g. postgresql://USER@HOST/DB (default: sqlite COURSE/gradebook.db)",
    )
    p.add_argument(
        "--cluster",
        metavar="local:N|tcp://HOST:PORT",
        help="grade on Dask: a LocalCluster of N worker processes, or a running scheduler whose workers "
        "were started with `dask worker` (always resumes: unchanged submissions are not sent again)",
    )
    for spec in fields(Limits):
        p.add_argument(
            f"--{spec.name.replace('_', '-')}",
            type=type(spec.default),
            default=spec.default,
            help=f"sandbox limit (default {spec.default})",
        )
    return p


def options_from(args: argparse.Namespace) -> Options:
    if args.jobs < 1:
        raise GradingError("--jobs must be at least 1")
    limits = Limits(**{spec.name: getattr(args, spec.name) for spec in fields(Limits)})
    tty = {"auto": None, "bar": True, "lines": False}[args.progress]
    return Options(
        jobs=args.jobs,
        limits=limits,
        isolate=not args.no_sandbox,
        resume=args.resume,
        students=args.students,
        tty=tty,
        gradebook=args.gradebook,
        mode=args.mode,
        cluster=args.cluster,
    )


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return exit_status(lambda: grade_course(args.course_root, options_from(args)))


if __name__ == "__main__":
    raise SystemExit(main())
