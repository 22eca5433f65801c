"""The README's main command, timed as a new user meets it: a fresh cache (BENCH_CACHE in a new
temporary folder, so the synthetic data is generated and every stage trained), install excluded.

    python benchmarks/main_command.py [--profile quick] [--suite ntu60-xsub] [--budget-min 15]
                                      [--out DIR]

Runs `bench run --suite S --data synthetic --profile P` as a subprocess (its own `--workers
auto`), then prints the whole command's wall time against the budget, and per run: fit and
predict time, top-1, and top-1 corrected for chance, (top1 - 1/C) / (1 - 1/C), beside the 1-NN
floor's. Exit status 1 when the command failed or took longer than the budget.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default="ntu60-xsub")
    p.add_argument("--profile", default="quick")
    p.add_argument("--budget-min", type=float, default=15.0)
    p.add_argument("--out", help="the run folder (default: a temporary one)")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-main-") as tmp:
        out = Path(args.out or Path(tmp) / "out")
        env = {**os.environ, "BENCH_CACHE": str(Path(tmp) / "cache")}  # nothing cached yet
        command = ["bench", "run", "--suite", args.suite, "--data", "synthetic", "--profile",
                   args.profile, "--out", str(out)]
        print("$", " ".join(command), f"(BENCH_CACHE={env['BENCH_CACHE']})", flush=True)
        start = time.perf_counter()
        status = subprocess.call(command, env=env)
        wall = time.perf_counter() - start

        from bench import load_results
        from bench.suites import SUITES
        records = load_results(out, args.suite) if (out / "runs").is_dir() else []
    within = wall <= 60 * args.budget_min
    chance = 1.0 / SUITES.get(args.suite).num_actions
    print(f"\nwhole command: {wall / 60:.1f} min wall on {os.cpu_count()} CPUs, exit status "
          f"{status} (budget {args.budget_min:g} min: {'met' if within else 'NOT met'})")
    print("\n| method | fit (min) | predict (min) | test clips | top-1 (%) | chance-corrected |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in sorted(records, key=lambda r: r["method"]):
        if r["status"] != "done":
            print(f"| {r['method']} | failed: {r['error']} | | | | |")
            continue
        m, t = r["metrics"], r["timings"]
        corrected = (m["top1"] - chance) / (1 - chance)
        print(f"| {r['method']} | {t['fit_s'] / 60:.1f} | {t['predict_s'] / 60:.1f} | "
              f"{int(m['num_test'])} | {100 * m['top1']:.1f} | {corrected:.3f} |")
    return 0 if status == 0 and within else 1


if __name__ == "__main__":
    raise SystemExit(main())
