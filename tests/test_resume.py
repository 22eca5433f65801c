"""`bench ablate` killed with SIGKILL (the whole process group) at several points, then run again:
exactly one complete result per run id, nothing lost, nothing rerun, a consistent index. And
failed runs: recorded with their traceback, listed, kept, and rerun alone with --retry-failed."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
from session_procs import wait_gone

from bench.specs import RunSpec
from bench.store import Store

COMMON = ["--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke", "--workers", "2"]
SWEEP = ["ablate", "noop.tag,noop.sleep_s", "--values", "1,2,3,4,5,6;0.8", *COMMON]


def bench(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def committed(store: Store) -> list[str]:
    return store.run_ids()


def kill_group_when(args, condition, timeout=120):
    proc = subprocess.Popen([sys.executable, "-m", "bench", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not condition() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI (its run processes die with it)
    proc.wait()
    # run processes lead their own groups and die when the driver does, not in the same
    # instant: wait until none is left, so nothing commits after the caller looks
    assert wait_gone(proc.pid, timeout=30) == [], "run processes outlived the driver"
    assert condition(), "the sweep ended before the kill point"


def test_sigkill_at_several_points_then_resume_gives_one_result_per_run(tmp_path):
    out = tmp_path / "out"
    store, args = Store(out), [*SWEEP, "--out", str(out)]
    planned = bench(*args, "--dry-run")
    assert planned.returncode == 0, planned.stderr[-2000:]
    ids = [line.split("\t")[0] for line in planned.stdout.splitlines() if line.startswith("noop-")]
    assert len(ids) == 6 and planned.stdout.strip().endswith("6 pending")

    # 1: while the first runs are in flight, nothing committed yet
    kill_group_when(args, lambda: any(p.name.startswith(".staging-")
                                      for p in store.runs.glob(".*")))
    # 2: right after the first commit (the index may not have it yet)
    kill_group_when(args, lambda: len(committed(store)) >= 1)
    # 3: mid-sweep
    kill_group_when(args, lambda: len(committed(store)) >= 4)
    before = {i: (store.run_dir(i) / "result.json").stat().st_mtime_ns for i in committed(store)}

    final = bench(*args)
    assert final.returncode == 0, final.stderr[-3000:]
    assert f"6 runs planned, {len(before)} already done" in final.stderr
    assert "\x1b[" not in final.stderr  # no live bar when stderr is not a terminal
    assert sorted(p.name for p in store.runs.iterdir() if p.name != ".progress") == sorted(ids)
    for run_id in ids:
        run = store.run_dir(run_id)
        result = json.loads((run / "result.json").read_text())
        assert result["status"] == "done" and result["run_id"] == run_id
        assert RunSpec.from_dict(json.loads((run / "spec.json").read_text())).run_id == run_id
        preds = store.load_predictions(run_id)
        assert len(preds.sample_ids) == preds.scores.shape[0] > 0
        assert np.isfinite(preds.scores).all()
    assert store.indexed() == {i: "done" for i in ids}
    with sqlite3.connect(out / "index.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 6
    # runs finished before the last kill were kept, not redone
    assert before == {i: (store.run_dir(i) / "result.json").stat().st_mtime_ns for i in before}
    again = bench(*args, "--dry-run")
    assert again.stdout.strip().endswith("# 6 runs: 6 done, 0 failed, 0 pending")


def test_failed_runs_are_kept_listed_and_retried_alone_and_stages_are_shared(tmp_path):
    out = tmp_path / "out"
    store = Store(out)
    args = ["ablate", "noop.tag,noop.stage", "--values", "1,2;shared", "--seeds", "0,1",
            *COMMON, "--out", str(out)]
    first = bench(*args, env={"BENCH_NOOP_FAIL": "1"})  # seed 1 raises
    assert first.returncode == 1, first.stderr[-3000:]  # any failed run: a non-zero exit
    assert first.stdout.strip().splitlines()[-1].endswith("report.md")  # the report all the same
    results = {i: store.load_result(i) for i in store.run_ids()}
    failed = sorted(i for i, r in results.items() if r["status"] == "failed")
    assert len(results) == 4 and len(failed) == 2
    for i in failed:
        assert "Traceback" in results[i]["error"] and "injected failure" in results[i]["error"]
        assert f"failed: {i}: RuntimeError: injected failure" in first.stderr
    assert "2 run(s) failed; rerun only those with --retry-failed" in first.stderr
    # seed 0: the second tag reuses the stage the first one built (built once, under a lock)
    assert first.stderr.count("(stage cache hit)") == 1 and "1 cache hit" in first.stderr
    assert store.indexed() == {i: r["status"] for i, r in results.items()}
    stamps = {i: (store.run_dir(i) / "result.json").stat().st_mtime_ns for i in results}

    kept = bench(*args)
    assert kept.returncode == 1  # the failed runs are still failed
    assert "4 runs planned, 2 already done, 2 failed earlier (kept" in kept.stderr
    assert stamps == {i: (store.run_dir(i) / "result.json").stat().st_mtime_ns for i in results}

    retried = bench(*args, "--retry-failed")
    assert retried.returncode == 0, retried.stderr[-3000:]
    assert "[2/2]" in retried.stderr and "[3/" not in retried.stderr
    for i in results:
        changed = (store.run_dir(i) / "result.json").stat().st_mtime_ns != stamps[i]
        assert changed == (i in failed)
        assert store.status(i) == "done"
    assert set(store.indexed().values()) == {"done"}
