"""SIGTERM / SIGINT to `bench run`: the driver kills its run processes (none outlives it or
commits later), says so in one line, exits 128 + the signal, and the same command resumes."""
import json
import os
import signal
import time

import pytest

from bench.store import Store
from session_procs import kill_session, run_processes, start_bench, wait_gone

SLEEP_S = 2  # each run sleeps this long: the signal lands while both are in flight


def sweep(out):
    return ["run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
            "--methods", "noop", "--seeds", "0,1", "--workers", "2",
            "--set", f"sleep_s={SLEEP_S}", "--set", "steps=8", "--out", str(out)]


def wait_for(condition, proc, timeout=90):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"bench ended early: {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_runs_says_so_and_the_same_command_resumes(tmp_path, signum, status):
    out = tmp_path / "out"
    store = Store(out)
    proc = start_bench(sweep(out))
    try:
        wait_for(lambda: len(run_processes(proc.pid)) == 2
                 and len(list(store.runs.glob(".staging-*"))) == 2, proc)
        sent = time.monotonic()
        proc.send_signal(signum)
        stderr = proc.communicate(timeout=30)[1]
        took = time.monotonic() - sent
        left = wait_gone(proc.pid, timeout=2)
    finally:
        kill_session(proc.pid)
    assert proc.returncode == status
    assert took < 5, f"the driver took {took:.1f}s to stop"
    assert stderr.strip().splitlines()[-1] == (
        "stopping: 2 runs in flight were stopped; rerun the same command to resume")
    assert "Traceback" not in stderr
    assert left == [], "a run process outlived the driver"
    time.sleep(0.5)  # (a surviving run would have to be in the session: none is)
    assert store.run_ids() == []

    again = start_bench(sweep(out))
    try:
        stderr = again.communicate(timeout=120)[1]
    finally:
        kill_session(again.pid)
    assert again.returncode == 0, stderr[-2000:]
    assert "2 runs planned, 0 already done" in stderr
    ids = store.run_ids()
    assert len(ids) == 2 and store.indexed() == {i: "done" for i in ids}
    assert all(json.loads((store.run_dir(i) / "result.json").read_text())["status"] == "done"
               for i in ids)
    assert not [p for p in store.runs.iterdir() if p.name.startswith(".staging-")]


def test_a_run_process_killed_from_outside_fails_alone(tmp_path):
    """SIGTERM to one run's process: that run is recorded failed (naming the signal); the run
    beside it finishes, and the sweep ends normally (status 1: a run failed)."""
    out = tmp_path / "out"
    store = Store(out)
    proc = start_bench(sweep(out))
    try:
        wait_for(lambda: len(run_processes(proc.pid)) == 2
                 and len(list(store.runs.glob(".staging-*"))) == 2, proc)
        victim = run_processes(proc.pid)[0]
        os.kill(victim, signal.SIGTERM)
        stderr = proc.communicate(timeout=120)[1]
    finally:
        kill_session(proc.pid)
    assert proc.returncode == 1, stderr[-2000:]
    results = [json.loads((store.run_dir(i) / "result.json").read_text()) for i in store.run_ids()]
    assert sorted(r["status"] for r in results) == ["done", "failed"]
    failed = next(r for r in results if r["status"] == "failed")
    assert f"process {victim} was killed by SIGTERM" in failed["error"]


def test_sigkill_to_the_driver_takes_its_runs_with_it(tmp_path):
    """The driver cannot clean up after SIGKILL: each run process notices its driver is gone
    and kills its own group at once, so none runs on to commit into an unlocked folder."""
    out = tmp_path / "out"
    store = Store(out)
    proc = start_bench(sweep(out))
    try:
        wait_for(lambda: len(run_processes(proc.pid)) == 2
                 and len(list(store.runs.glob(".staging-*"))) == 2, proc)
        proc.kill()
        proc.wait(timeout=30)
        left = wait_gone(proc.pid, timeout=1)
    finally:
        kill_session(proc.pid)
    assert left == [], "a run process outlived its driver"
    time.sleep(SLEEP_S + 0.5)  # a surviving run would have committed by now
    assert store.run_ids() == []
