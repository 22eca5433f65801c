"""Fault injection: a small sweep killed at 8 random (seeded) moments (BENCH_FAULT_TRIALS=N for
more: `BENCH_FAULT_TRIALS=40 pytest -m faults`), alternating SIGKILL and SIGTERM, sent to the
driver or to one of its run processes; after each kill the same command is run again to completion.
Kill moments are drawn inside what a run is sure to last (a run sleeps 0.8 s; a worker is hit at
most 0.6 s after the first one starts; the driver within the first half of an uninterrupted sweep's
wall time), so a loaded machine does not turn kills into misses. Then: exactly one intact result
per run id (result.json parses and is done, predictions.npz loads and matches the sha256
result.json records), no scratch or temp file left, the index rows equal the run folders, and no
process of the killed command still alive.

The command carries --retry-failed: a run whose own process was killed is (rightly) recorded as
failed, and the rerun redoes it. Runs are noop runs sleeping 0.8 s; a trial takes ~6 s."""
import os
import random
import signal
import time

import pytest

from bench.store import Store
from session_procs import check_intact, kill_session, run_processes, start_bench, wait_gone

pytestmark = pytest.mark.faults  # not skipped: CI runs it (about a minute)

# 8 covers each (signal, driver-or-worker) pair twice at about 8 s a trial; more on request
TRIALS = int(os.environ.get("BENCH_FAULT_TRIALS", "8"))
SEED = 15


def sweep(out):
    return ["ablate", "noop.tag", "--values", "1,2", "--seeds", "0,1", "--suite", "mini-xsub",
            "--data", "synthetic", "--profile", "smoke", "--workers", "2", "--retry-failed",
            "--set", "sleep_s=0.8", "--set", "steps=2", "--out", str(out)]


def finish(args, timeout=120) -> tuple[int, str]:
    proc = start_bench(args)
    try:
        stderr = proc.communicate(timeout=timeout)[1]
    finally:
        kill_session(proc.pid)
    return proc.returncode, stderr



def kill_at(args, delay: float, signum: int, at_worker: bool, rng: random.Random) -> str:
    """Start the command and signal it: the driver `delay` s in, or (at_worker) a run process
    alive `delay` s after the first one started. Returns what was hit: 'driver', 'worker' or
    'nothing' (the command had ended)."""
    proc = start_bench(args)
    try:
        target = _wait_for_target(proc, delay, at_worker, rng)
        if target is None:
            return "nothing"
        try:
            os.kill(target, signum)
        except ProcessLookupError:
            return "nothing"
        hit = "driver" if target == proc.pid else "worker"
        proc.communicate(timeout=120)  # after a worker's kill the driver goes on to the end
        left = wait_gone(proc.pid, timeout=5)
        assert left == [], f"processes outlived the {hit}'s {signal.Signals(signum).name}: {left}"
        return hit
    finally:
        kill_session(proc.pid)


def _wait_for_target(proc, delay: float, at_worker: bool, rng: random.Random) -> int | None:
    deadline = None if at_worker else time.monotonic() + delay
    while proc.poll() is None:
        workers = run_processes(proc.pid) if at_worker else []
        if deadline is None and workers:
            deadline = time.monotonic() + delay  # measured from the first run process
        if deadline is not None and time.monotonic() >= deadline:
            if not at_worker:
                return proc.pid
            if workers:
                return rng.choice(workers)
        time.sleep(0.005)
    return None


def test_a_sweep_killed_at_random_moments_resumes_to_one_intact_result_per_run(tmp_path):
    rng = random.Random(SEED)
    status, stderr = finish(sweep(tmp_path / "warm"))  # makes the synthetic data once
    assert status == 0, stderr[-3000:]
    started = time.monotonic()  # how long the whole command takes: kills land before its end
    status, stderr = finish(sweep(tmp_path / "timed"))
    full_s = time.monotonic() - started
    assert status == 0, stderr[-3000:]
    ids = Store(tmp_path / "timed").run_ids()
    assert len(ids) == 4

    hits = []
    for trial in range(TRIALS):
        out = tmp_path / f"t{trial}"
        signum = signal.SIGKILL if trial % 2 == 0 else signal.SIGTERM
        at_worker = trial % 4 >= 2  # trials 2, 3, 6, 7, ...: a run process
        delay = rng.uniform(0, 0.6) if at_worker else rng.uniform(0.05, 0.5 * full_s)
        hits.append(kill_at(sweep(out), delay, signum, at_worker, rng))
        status, stderr = finish(sweep(out))
        assert status == 0, f"trial {trial}: {stderr[-3000:]}"
        check_intact(Store(out), ids)
    assert hits.count("nothing") <= TRIALS // 10 + 1, hits  # the kills landed while it ran
    worker_trials = sum(trial % 4 >= 2 for trial in range(TRIALS))
    assert hits.count("worker") >= 0.75 * worker_trials, hits
