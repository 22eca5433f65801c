"""SIGTERM / SIGINT to `bench run` with the Ray and Slurm executors, as tests/test_signals.py does
for the local one: the runs in flight are stopped (Ray: force-cancelled, the private instance
shut down; Slurm: scancel of the submitted jobs), one line says so, the driver exits 128 + the
signal, nothing commits afterwards, and the same command resumes."""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from bench.store import Store
from fake_slurm import SACCT, SRUN
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

# Stand-in sbatch: as tests/executors/test_executors_slurm.py's, and each job's process group is noted
# (<job>.pgid) for the stand-in scancel, which logs its argv and, as Slurm does, sends SIGTERM
# to every process of each named job (an array id: all its tasks), marking them CANCELLED.
SBATCH = r'''
import os, re, subprocess, sys, pathlib
state = pathlib.Path(os.environ["FAKE_SLURM_DIR"])
script = pathlib.Path(sys.argv[-1])
text = script.read_text()
counter = state / "next_id"
jid = int(counter.read_text()) if counter.exists() else 1000
counter.write_text(str(jid + 1))
m = re.search(r"^#SBATCH --array=(\d+)-(\d+)", text, re.M)
for t in (range(int(m[1]), int(m[2]) + 1) if m else [None]):
    key = str(jid) if t is None else f"{jid}_{t}"
    env = dict(os.environ, SLURM_JOB_ID=str(jid), SLURM_NTASKS="1", SLURM_JOB_NUM_NODES="1",
               SLURM_NODEID="0", SLURM_PROCID="0", SLURM_LOCALID="0",
               SLURM_JOB_NODELIST="localhost")
    if t is not None:
        env.update(SLURM_ARRAY_JOB_ID=str(jid), SLURM_ARRAY_TASK_ID=str(t))
    (state / f"{key}.state").write_text("RUNNING")
    done = f"echo COMPLETED > {state}/{key}.state || echo FAILED > {state}/{key}.state"
    p = subprocess.Popen(["bash", "-c", f"bash {script} && {done}"], env=env,
                         start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    (state / f"{key}.pgid").write_text(str(p.pid))
print(f"Submitted batch job {jid}")
'''

SCANCEL = r'''
import os, signal, sys, pathlib
state = pathlib.Path(os.environ["FAKE_SLURM_DIR"])
with open(state / "scancel.log", "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
for jid in sys.argv[1:]:
    for pg in list(state.glob(f"{jid}.pgid")) + list(state.glob(f"{jid}_*.pgid")):
        (state / f"{pg.stem}.state").write_text("CANCELLED")
        try:
            os.killpg(int(pg.read_text()), signal.SIGTERM)
        except ProcessLookupError:
            pass
'''


@pytest.fixture
def fake_slurm(tmp_path):
    bin_dir, state = tmp_path / "bin", tmp_path / "slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in (("sbatch", SBATCH), ("srun", SRUN), ("sacct", SACCT),
                       ("scancel", SCANCEL)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SLURM_DIR": str(state),
           "BENCH_SLURM_CLUSTER": "slurm"}
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
