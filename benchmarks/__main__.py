"""``make bench``: the training benchmark, then the explorer's and the grading benchmarks.

The last two live in ``benchmarks.bench_explorer`` and ``benchmarks.bench_grading``;
each runs only when its module exists, and a line says when one is missing.
"""

from __future__ import annotations

import importlib
import sys
import time

from benchmarks import bench_training

OPTIONAL = ("bench_explorer", "bench_grading")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    start = time.perf_counter()
    status = bench_training.main(argv) or 0
    print(f"[bench_training done in {time.perf_counter() - start:.0f} s]")
    for name in OPTIONAL:
        print()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ImportError as exc:
            missing = exc.name == f"benchmarks.{name}"
            print(
                f"[benchmarks.{name} {'is not there' if missing else f'failed to import ({exc})'}: skipped]"
            )
            continue
        start = time.perf_counter()
        status = module.main() or status
        print(f"[{name} done in {time.perf_counter() - start:.0f} s]")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
