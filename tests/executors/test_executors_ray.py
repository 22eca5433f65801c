"""Ray executor on a private local instance, inside a network namespace holding only loopback
(Ray binds all interfaces). One Ray start for all checks: it costs seconds. Never `ray stop`."""
import json
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("ray")

SCRIPT = r'''
import json, sys
from pathlib import Path
from bench.errors import BenchError
from bench.executors import Resources
from bench.executors.ray_cluster import RayExecutor
from bench.executors.task import worker_info

out = {}
ex = RayExecutor(workers=2)
try:
    out["private"] = ex.private
    out["describe"] = ex.describe()
    for name, r in (("gpu", Resources(gpus=1)), ("cpus", Resources(cpus=64))):
        try:
            ex.validate([r])
        except BenchError as e:
            out[name + "_error"] = str(e)
    out["info"] = ex.submit(worker_info, resources=Resources(cpus=2)).result(timeout=120)
    out["torchrun"] = ex.submit(worker_info, resources=Resources(procs=2)).result(timeout=120)
    bad = ex.submit(int, "x")
    try:
        bad.result(timeout=120)
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"
finally:
    ex.shutdown()

# The driver end to end: a small sweep of the do-nothing method through Ray.
from bench.driver import execute_plan
from bench.data.datasets import resolve_source
from bench.plan import plan_suite
from bench.store import Store
from bench.suites import SUITES
source = resolve_source(SUITES.get("mini-xsub"), "synthetic")
specs = plan_suite(source, ["noop"], "smoke", [0, 1, 2])
store = Store(Path(sys.argv[1]))
results = execute_plan(specs, store, workers=2, executor="ray", live=False)
out["sweep"] = sorted(r["status"] for r in results)
out["indexed"] = store.indexed()
print("RESULT " + json.dumps(out))
'''


def _loopback_only() -> list[str]:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root with unshare and ip: Ray tests run in a loopback-only namespace")
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def test_ray_private_instance_validates_runs_and_executes_a_sweep(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1")
    proc = subprocess.run([*_loopback_only(), sys.executable, "-c", SCRIPT, str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    out = json.loads(line[0][len("RESULT "):])
    assert out["private"] and "private local instance, 2 CPU, 0 GPU" in out["describe"]
    assert "asks for 1 CPU, 1 GPU" in out["gpu_error"] and "\n" not in out["gpu_error"]
    assert "asks for 64 CPU" in out["cpus_error"]
    assert out["info"]["OMP_NUM_THREADS"] == "2"
    assert out["torchrun"]["RANK"] == "0" and out["torchrun"]["WORLD_SIZE"] == "2"
    assert "invalid literal" in out["error"]
    assert out["sweep"] == ["done", "done", "done"]
    assert sorted(out["indexed"].values()) == ["done", "done", "done"]
