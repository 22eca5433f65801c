"""SIGTERM / SIGINT to `bench run` with the Ray and Slurm executors, as tests/test_signals.py does
for the local one: the runs in flight are stopped (Ray: force-cancelled, the private instance
shut down; Slurm: scancel of the submitted jobs), one line says so, the driver exits 128 + the
signal, nothing commits afterwards, and the same command resumes."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bench.store import Store
import fake_slurm as fake_slurm_scripts
from session_procs import kill_session, wait_gone

SLEEP_S = 4  # each run sleeps this long: the signal lands while both are in flight
STOPPED = "stopping: 2 runs in flight were stopped; rerun the same command to resume"


def sweep(out, executor):
    return ["run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
            "--methods", "noop", "--seeds", "0,1", "--workers", "2", "--executor", executor,
            "--set", f"sleep_s={SLEEP_S}", "--set", "steps=8", "--out", str(out)]


def wait_for(condition, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"bench ended early: {proc.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def both_started(store):
    return lambda: len(list(store.runs.glob(".staging-*"))) == 2


def start(cmd, env=None) -> subprocess.Popen:
    """Like session_procs.start_bench, for a full command line (bench in a namespace)."""
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def bench_cmd(args) -> list[str]:
    return [sys.executable, "-m", "bench", *args]


def signal_midway(cmd, store, signum, env=None):
    """Start bench, signal it once both runs are in flight; (returncode, stderr, seconds it took
    to stop, processes of its session still alive 10 s later)."""
    proc = start(cmd, env)
    try:
        wait_for(both_started(store), proc)
        sent = time.monotonic()
        proc.send_signal(signum)
        stderr = proc.communicate(timeout=90)[1]
        took = time.monotonic() - sent
        left = wait_gone(proc.pid, timeout=10)
    finally:
        kill_session(proc.pid)
    return proc.returncode, stderr, took, left


def finish(cmd, env=None):
    proc = start(cmd, env)
    try:
        stderr = proc.communicate(timeout=300)[1]
    finally:
        kill_session(proc.pid)
    return proc.returncode, stderr


def assert_stopped_and_resumable(store, cmd, status, expected, stderr, took, left, env=None,
                                 resume=True):
    assert status == expected, stderr[-3000:]
    assert took < 30, f"the driver took {took:.1f}s to stop"
    assert stderr.strip().splitlines()[-1] == STOPPED, stderr[-3000:]
    assert "Traceback" not in stderr
    assert left == [], "a process of the driver's session outlived it"
    time.sleep(SLEEP_S + 1)  # a run that survived the stop would have committed by now
    assert store.run_ids() == []  # (a killed run's staging folder: the next driver removes it)
    if not resume:
        return
    status, stderr = finish(cmd, env)
    assert status == 0, stderr[-3000:]
    assert "2 runs planned, 0 already done" in stderr
    ids = store.run_ids()
    assert len(ids) == 2 and store.indexed() == {i: "done" for i in ids}
    assert all(json.loads((store.run_dir(i) / "result.json").read_text())["status"] == "done"
               for i in ids)
    assert not list(store.runs.glob(".staging-*"))


# ---------------------------------------------------------------------------------------- Ray


def _in_loopback_namespace(args) -> list[str]:
    """bench's argv run in a network namespace holding only loopback (Ray binds all interfaces),
    exec'd so the signalled pid is the driver itself."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root with unshare and ip: Ray tests run in a loopback-only namespace")
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *bench_cmd(args)]


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_ray_a_signal_cancels_the_tasks_says_so_and_the_same_command_resumes(
        tmp_path, signum, status):
    """A private Ray instance: its processes (GCS, raylet, workers) live in the driver's session,
    so `left == []` also says the instance is gone."""
    pytest.importorskip("ray")
    out = tmp_path / "out"
    store = Store(out)
    cmd = _in_loopback_namespace(sweep(out, "ray"))
    env = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    result = signal_midway(cmd, store, signum, env)
    assert_stopped_and_resumable(store, cmd, status, *result, env=env,
                                 resume=signum == signal.SIGTERM)  # one resume is enough


# -------------------------------------------------------------------------------------- Slurm

@pytest.fixture
def fake_slurm(tmp_path):
    state, env = fake_slurm_scripts.install(tmp_path)
    env["BENCH_SLURM_CLUSTER"] = "slurm"
    try:
        yield state, env
    finally:
        for pg in state.glob("*.pgid"):  # whatever a failed test left running
            try:
                os.killpg(int(pg.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def _groups_alive(state) -> list[str]:
    alive = []
    for pg in state.glob("*.pgid"):
        try:
            os.killpg(int(pg.read_text()), 0)
            alive.append(pg.stem)
        except ProcessLookupError:
            pass
    return alive


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_slurm_a_signal_scancels_the_jobs_says_so_and_the_same_command_resumes(
        fake_slurm, tmp_path, signum, status):
    pytest.importorskip("submitit")
    state, env = fake_slurm
    out = tmp_path / "out"
    store = Store(out)
    cmd = bench_cmd(sweep(out, "slurm"))
    code, stderr, took, left = signal_midway(cmd, store, signum, env)
    # One job array of two tasks (same resources), cancelled by its id in one scancel.
    assert (state / "scancel.log").read_text().split() == ["1000"]
    deadline = time.monotonic() + 10  # Slurm's SIGTERM ends a run at once (not submitit's bypass)
    while _groups_alive(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _groups_alive(state) == []
    assert sorted((state / f"1000_{t}.state").read_text().strip() for t in (0, 1)) == [
        "CANCELLED", "CANCELLED"]
    assert_stopped_and_resumable(store, cmd, code, status, stderr, took, left, env=env)
