"""Harness overhead per run for each executor: what the sweep machinery costs on top of the
method itself, measured with methods that do nothing.

    OMP_NUM_THREADS=1 python benchmarks/harness_overhead.py [--executors local,ray,slurm]
                                                           [--runs 8] [--workers 1] [--out FILE.json]

Two numbers per executor:
- dispatch: an empty call (`bench.executors.task.worker_info`) submitted N times; wall / N.
  For `local` this is a fresh interpreter per run (spawn), by design: runs share no state.
- full run: `bench run` machinery (driver -> executor -> runner -> store -> index) on the `noop`
  method over the small synthetic suite; (wall - executor start-up) / N, and what is left after
  subtracting the time the runner measured inside the run (data loading, fit, predict): the
  harness's own cost per run (process start and imports, scoring, store, index).
Executor start-up (e.g. starting a private Ray instance) is reported apart, once.
`slurm` uses submitit's local backend (one subprocess per job), as on a machine without Slurm.
Ray binds every interface: on a shared machine run this inside `unshare -n` with loopback up.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(name: str, runs: int, workers: int, tmp: Path) -> dict:
    from bench.data.datasets import resolve_source
    from bench.driver import execute_plan
    from bench.executors import make_executor
    from bench.executors.task import worker_info
    from bench.plan import plan_suite
    from bench.store import Store
    from bench.suites import SUITES

    options = {"log_dir": str(tmp / f"{name}-logs")}
    started = time.perf_counter()
    executor = make_executor(name, workers=workers, **options)
    startup = time.perf_counter() - started
    try:
        started = time.perf_counter()
        calls = [(worker_info, (), {}, _resources()) for _ in range(runs)]
        for future in executor.submit_many(calls):
            future.result()
        dispatch = (time.perf_counter() - started) / runs
    finally:
        executor.shutdown()

    source = resolve_source(SUITES.get("mini-xsub"), "synthetic")  # generated once, cached
    specs = plan_suite(source, ["noop"], "smoke", list(range(runs)))
    store = Store(tmp / f"{name}-out")
    started = time.perf_counter()
    results = execute_plan(specs, store, workers=workers, executor=name,
                           live=False, executor_options=options)
    # the driver starts its own executor: its start-up is reported once, not per run
    wall = (time.perf_counter() - started - startup) / runs
    inside = sum(sum(r["timings"].get(k, 0.0) for k in ("data_s", "fit_s", "predict_s"))
                 for r in results) / runs
    assert all(r["status"] == "done" for r in results), [r.get("error") for r in results]
    return {"executor": name, "runs": runs, "workers": workers, "startup_s": startup,
            "dispatch_s_per_call": dispatch, "full_run_s": wall, "inside_run_s": inside,
            "overhead_s_per_run": wall - inside / workers}


def _resources():
    from bench.executors import Resources
    return Resources()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", default="local,ray,slurm")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", help="also write the numbers as JSON here")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("BENCH_SLURM_CLUSTER", "local")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        for name in args.executors.split(","):
            rows.append(measure(name.strip(), args.runs, args.workers, Path(tmp)))
    print(f"harness overhead, {args.runs} runs, {args.workers} worker(s), "
          f"{os.cpu_count()} CPUs; seconds")
    print("| executor | start-up | dispatch / empty call | full noop run | inside run | "
          "overhead / run |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['startup_s']:.2f} | {r['dispatch_s_per_call']:.3f} | "
              f"{r['full_run_s']:.3f} | {r['inside_run_s']:.3f} | {r['overhead_s_per_run']:.3f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
