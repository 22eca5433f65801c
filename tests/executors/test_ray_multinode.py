"""A real two-node Ray cluster on this machine: a head and a worker node started as separate
`ray start --block` processes (each its own session, its own resource: head_node / worker_node),
inside a network namespace holding only loopback (Ray binds all interfaces). `bench ablate` runs
a noop sweep on it through --ray-address; the runs spread over both nodes (bench records each
task's node in executor-logs/ray-tasks.jsonl); the worker node is SIGKILLed (raylet, workers and
all) while it runs a task. The sweep still ends, the lost run recorded failed; the same command
rerun on the surviving head redoes it, keeps every run finished before (on either node), and
leaves one intact result per run id. Teardown kills every process in the namespace."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

pytest.importorskip("ray")

from bench.store import Store  # noqa: E402
from session_procs import check_intact  # noqa: E402

PORT = 6390  # inside the private namespace: no clash with anything on the machine
ADDRESS = f"127.0.0.1:{PORT}"
SLEEP_S = 2  # each run lasts at least this long: the kill lands while one runs on the worker
RAY = [sys.executable, "-m", "ray.scripts.scripts"]


def _ns_link(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _pids(match) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and match(int(name)):
            try:
                with open(f"/proc/{name}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        pids.append(int(name))
            except (OSError, IndexError):
                pass
    return pids


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def loopback_net():
    """A network namespace with only loopback, held open by a sleeping process; yields the
    command prefix that runs a program inside it. Teardown kills whatever lives in it."""
    tools = ("unshare", "nsenter", "ip")
    if os.geteuid() != 0 or not all(shutil.which(t) for t in tools):
        pytest.skip("needs root with unshare, nsenter and ip: the Ray nodes run in a "
                    "loopback-only network namespace")
    holder = subprocess.Popen(["unshare", "-n", "sh", "-c", "ip link set lo up && echo up && "
                               "exec sleep 900"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "up"
        link = _ns_link(holder.pid)
        yield ["nsenter", f"--net=/proc/{holder.pid}/ns/net"], link
    finally:
        deadline = time.monotonic() + 30
        while (left := _pids(lambda p: _ns_link(p) == link and p != holder.pid)) \
                and time.monotonic() < deadline:
            _kill_all(left)
            time.sleep(0.2)
        holder.kill()
        holder.wait()
        assert not left, f"processes survived in the test's namespace: {left}"


def _wait_until(condition, what: str, timeout: float, poll: float = 1.0, alive=()):
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in alive:
            assert proc.poll() is None, f"{what}: a process ended early ({proc.args[:4]})"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)


@pytest.fixture
def two_nodes(loopback_net, tmp_path):
    """Head (1 CPU, head_node) and worker (1 CPU, worker_node), each `ray start --block` in its
    own session. Ray's temp dir is short and under /tmp: its unix socket paths must stay under
    107 bytes, which a pytest tmp_path would exceed."""
    net, _ = loopback_net
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    # The nodes' workers inherit this env: the same BENCH_CACHE as the driver, one thread each.
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled", OMP_NUM_THREADS="1")
    # The head's GCS declares a silent node dead after 5 missed 1 s health checks (default: 5
    # of 3 s), so the task lost with the worker node fails within seconds.
    env.update(RAY_health_check_period_ms="1000", RAY_health_check_failure_threshold="5")
    common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
              "--object-store-memory", str(80 * 1024 ** 2), "--disable-usage-stats",
              "--include-log-monitor", "false"]
    logs = tmp_path / "ray-logs"
    logs.mkdir()
    nodes = {}
    try:
        nodes["head"] = subprocess.Popen(
            [*net, *RAY, "start", "--head", "--port", str(PORT), "--temp-dir", temp,
             "--include-dashboard", "false", "--resources", '{"head_node": 1}', *common],
            env=env, start_new_session=True, stdout=open(logs / "head.log", "w"),
            stderr=subprocess.STDOUT)
        nodes["worker"] = subprocess.Popen(
            [*net, *RAY, "start", "--address", ADDRESS, "--resources", '{"worker_node": 1}',
             "--dashboard-agent-listen-port", "52400", *common],
            env=env, start_new_session=True, stdout=open(logs / "worker.log", "w"),
            stderr=subprocess.STDOUT)
        # `ray start` says so once its node is registered with the head (cheaper to read than
        # asking `ray status`, a Python start-up per poll on a busy machine).
        _wait_until(lambda: all("Ray runtime started" in (logs / f"{n}.log").read_text()
                                for n in nodes), "both nodes", 90, poll=0.2,
                    alive=list(nodes.values()))
        yield nodes, env
    finally:
        for node in nodes.values():
            _kill_all(_pids(lambda p, sid=node.pid: _session(p) == sid))
            node.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def _running_tasks(session: int) -> list[int]:
    """Ray worker processes of a node that are executing a bench task right now (Ray titles a
    worker after the task it runs)."""
    def running(pid):
        if _session(pid) != session:
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().startswith(b"ray::bench_task")
        except OSError:
            return False
    return _pids(running)


def _placements(out) -> list[dict]:
    path = out / "executor-logs" / "ray-tasks.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _node_of(record: dict) -> str:
    res = record["node_resources"]
    return "head" if "head_node" in res else "worker" if "worker_node" in res else "?"


def test_a_two_node_sweep_survives_losing_the_worker_node(two_nodes, loopback_net, tmp_path):
    nodes, env = two_nodes
    net, _ = loopback_net
    out = tmp_path / "out"
    sweep = [*net, sys.executable, "-m", "bench", "ablate", "noop.tag", "--values", "1,2,3",
             "--seeds", "0,1", "--suite", "mini-xsub", "--data", "synthetic", "--profile",
             "smoke", "--executor", "ray", "--ray-address", ADDRESS, "--workers", "2",
             "--retry-failed", "--set", f"sleep_s={SLEEP_S}", "--set", "steps=3",
             "--out", str(out)]
    first = subprocess.Popen(sweep, env=env, start_new_session=True, text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Kill the worker node once runs finished on both nodes and it is running another.
        _wait_until(lambda: {_node_of(r) for r in _placements(out)} >= {"head", "worker"}
                    and _running_tasks(nodes["worker"].pid), "runs on both nodes", 120,
                    poll=0.1, alive=[first])
        _kill_all(_pids(lambda p: _session(p) == nodes["worker"].pid))
        nodes["worker"].wait(timeout=30)
        _wait_until(lambda: not _pids(lambda p: _session(p) == nodes["worker"].pid),
                    "the worker node's processes to be gone", 30, poll=0.1)
        stderr = first.communicate(timeout=150)[1]
    finally:
        _kill_all(_pids(lambda p: _session(p) == first.pid))
    store = Store(out)
    ids = store.run_ids()
    assert len(ids) == 6, stderr[-3000:]
    before = {i: store.load_result(i) for i in ids}
    lost = sorted(i for i, r in before.items() if r["status"] == "failed")
    kept = sorted(i for i, r in before.items() if r["status"] == "done")
    assert first.returncode == 1 and lost, stderr[-3000:]  # the run on the killed node failed
    placed = _placements(out)
    (dead,) = {r["node_id"] for r in placed if _node_of(r) == "worker"}
    for i in lost:  # Ray's error names the dead node
        assert before[i]["error"].startswith("NodeDiedError") and dead in before[i]["error"]
    assert {_node_of(r) for r in placed if r["run_id"] in kept} == {"head", "worker"}
    assert len({r["node_id"] for r in placed}) == 2

    again = subprocess.Popen(sweep, env=env, start_new_session=True, text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        stderr = again.communicate(timeout=150)[1]
    finally:
        _kill_all(_pids(lambda p: _session(p) == again.pid))
    assert again.returncode == 0, stderr[-3000:]
    assert (f"6 runs planned, {len(kept)} already done, {len(lost)} failed earlier (retrying)"
            in stderr)
    check_intact(store, ids)
    for i in kept:  # finished runs, on either node, are kept as they were
        assert store.load_result(i) == before[i]
    redone = [r for r in _placements(out)[len(placed):]]
    assert sorted(r["run_id"] for r in redone) == lost
    assert {_node_of(r) for r in redone} == {"head"}
