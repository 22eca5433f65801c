"""Ray executor: an existing cluster (--ray-address or $RAY_ADDRESS) or a private local instance
started for the sweep (never a silent attach to whatever runs on the machine: a plain ray.init()
would).

Resource requests are checked against the cluster's nodes before anything is submitted: Ray
would otherwise queue a task no node can hold forever. A multi-GPU run is one Ray task holding
all its GPUs and running torchrun inside.

Where each run ran is appended, one JSON line per finished task (run id, Ray node id, node IP,
host, pid, the node's resources), to <log_dir>/ray-tasks.jsonl. A task lost with its node (or
its worker process) fails its run; Ray does not retry it (max_retries=0, as a run whose process
dies fails under the local executor), and `--retry-failed` redoes it.

stop() (SIGINT/SIGTERM to the driver) force-cancels every unfinished task, which kills the Ray
worker processes running them, and waits until Ray reports them ended.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from bench.errors import BenchError
from bench.executors import Resources, missing_extra
from bench.executors.task import invoke

PRIVATE_OBJECT_STORE = 100 * 1024 ** 2  # runs exchange small dicts; keep /dev/shm free
STOP_WAIT_S = 30.0  # how long stop() waits for force-cancelled tasks to be reported ended
PLACEMENT_LOG = "ray-tasks.jsonl"


def bench_task(fn, args, kwargs, env, procs):
    """What a Ray worker runs: the call, plus where it ran (its node is known only here)."""
    import ray

    where = {"node_id": ray.get_runtime_context().get_node_id(),
             "node_ip": ray.util.get_node_ip_address(), "host": socket.gethostname(),
             "pid": os.getpid()}
    return where, invoke(fn, args, kwargs, env, procs)


class RayExecutor:
    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None, num_cpus: int | None = None,
                 num_gpus: int | None = None, cpus_per_run: int | None = None,
                 log_dir: str | None = None):
        try:
            import ray
        except ImportError:
            raise missing_extra("ray", "ray") from None
        self._ray = ray
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        # Quiet and local by default; the caller's explicit settings win.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        with _keep_signal_handlers():  # ray.init sets its own SIGTERM handler (sys.exit)
            if self.address:
                self.private = False
                try:
                    ray.init(address=self.address, log_to_driver=False)
                except Exception as exc:  # noqa: BLE001 - unreachable, wrong version, ...
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    raise BenchError(f"ray: cannot connect to the cluster at {self.address}: "
                                     f"{first}") from None
            else:
                self.private = True
                # `workers` runs at a time, each holding its CPUs: the private instance's size
                cpus = num_cpus or max(1, int(workers)) * (cpus_per_run or 1)
                ray.init(address="local", num_cpus=cpus, num_gpus=num_gpus,
                         include_dashboard=False, log_to_driver=False,
                         object_store_memory=PRIVATE_OBJECT_STORE)
        self._remote = ray.remote(bench_task)
        self.placement_log = Path(log_dir) / PLACEMENT_LOG if log_dir else None
        self._lock = threading.Lock()  # guards _unfinished, _stopping and the placement log
        self._unfinished: dict = {}  # ObjectRef -> the Future handed out for it
        self._stopping = False
        self._nodes = {n["NodeID"]: n.get("Resources", {}) for n in ray.nodes()}

    def describe(self) -> str:
        where = f"cluster at {self.address}" if self.address else "private local instance"
        res = self._ray.cluster_resources()
        nodes = sum(1 for n in self._ray.nodes() if n.get("Alive"))
        return (f"ray: {where}, {res.get('CPU', 0):g} CPU, {res.get('GPU', 0):g} GPU, "
                f"{nodes} node(s)")

    def default_gpus(self) -> int:
        return 1 if self._ray.cluster_resources().get("GPU", 0) >= 1 else 0

    def threads_for(self, resources: Resources) -> int:
        return resources.cpus

    def validate(self, requests: list[Resources]) -> None:
        nodes = [n.get("Resources", {}) for n in self._ray.nodes() if n.get("Alive")]
        for r in set(requests):
            if not any(n.get("CPU", 0) >= r.cpus and n.get("GPU", 0) >= r.gpus
                       and (r.mem_gb is None or n.get("memory", 0) >= r.mem_gb * 1024 ** 3)
                       for n in nodes):
                biggest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
                raise BenchError(
                    f"a run asks for {r.describe()}{_mem(r)} but no node of the Ray "
                    f"{'cluster at ' + self.address if self.address else 'private instance'} has "
                    f"that much (largest node: {biggest.get('CPU', 0):g} CPU, "
                    f"{biggest.get('GPU', 0):g} GPU): lower --cpus-per-run/--gpus-per-run")

    def submit(self, fn, *args, resources: Resources = Resources(), **kwargs) -> Future:
        options = {"num_cpus": resources.cpus, "num_gpus": resources.gpus, "max_retries": 0}
        if resources.mem_gb:
            options["memory"] = int(resources.mem_gb * 1024 ** 3)
        # Ray sets CUDA_VISIBLE_DEVICES for the GPUs it grants; we only pin the thread count.
        env = {"OMP_NUM_THREADS": resources.cpus}
        future = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            if self._stopping:
                future.set_exception(BenchError("the Ray executor was stopped"))
                return future
            ref = self._remote.options(**options).remote(fn, args, kwargs, env, resources.procs)
            self._unfinished[ref] = future
        ref.future().add_done_callback(lambda done: self._landed(ref, done, future))
        return future

    def submit_many(self, calls: list[tuple]) -> list[Future]:
        return [self.submit(fn, *args, resources=r, **kw) for fn, args, kw, r in calls]

    def _landed(self, ref, done: Future, future: Future) -> None:
        """(A Ray thread.) Unwrap the task's (where, value); record where it ran."""
        with self._lock:
            self._unfinished.pop(ref, None)
        exc = done.exception()
        if exc is not None:
            future.set_exception(exc)
            return
        where, value = done.result()
        try:
            self._record(value.get("run_id") if isinstance(value, dict) else None, where)
        except Exception:  # noqa: BLE001 - a log line must not fail a finished run
            pass
        future.set_result(value)

    def _record(self, label: str | None, where: dict) -> None:
        if self.placement_log is None:
            return
        node = self._nodes.get(where["node_id"])
        if node is None:  # a node that joined after the last look
            self._nodes = {n["NodeID"]: n.get("Resources", {}) for n in self._ray.nodes()}
            node = self._nodes.get(where["node_id"], {})
        line = json.dumps({"run_id": label, **where, "node_resources": node,
                           "ended": time.time()})
        with self._lock:
            self.placement_log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.placement_log, "a") as f:
                f.write(line + "\n")

    def stop(self) -> int:
        """Force-cancel every unfinished task (Ray kills the worker processes running them),
        submit no other, and wait until Ray reports them ended; returns how many there were."""
        with self._lock:
            self._stopping = True
            refs = list(self._unfinished)
        for ref in refs:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished, or its node is gone
                pass
        if refs:
            self._ray.wait(refs, num_returns=len(refs), timeout=STOP_WAIT_S, fetch_local=False)
        return len(refs)

    def shutdown(self) -> None:
        # Disconnects from a cluster; stops only the private instance this driver started.
        if self._unfinished:
            self.stop()
        self._ray.shutdown()


class _keep_signal_handlers:
    """Restore SIGINT/SIGTERM handlers after ray.init, which replaces SIGTERM's with sys.exit:
    the driver's own handlers stop the runs, say so, and exit 128 + signum."""

    def __enter__(self):
        self.saved = ({s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
                      if threading.current_thread() is threading.main_thread() else {})

    def __exit__(self, *exc):
        for s, handler in self.saved.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        return False


def _mem(r: Resources) -> str:
    return f", {r.mem_gb:g} GB" if r.mem_gb else ""
