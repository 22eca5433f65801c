"""Ray executor: an existing cluster ($RAY_ADDRESS) or a private local instance started for the
sweep (never a silent attach to whatever runs on the machine: a plain ray.init() would).

Resource requests are checked against the cluster's nodes before anything is submitted: Ray
would otherwise queue a task no node can hold forever. A multi-GPU run is one Ray task holding
all its GPUs and running torchrun inside.
"""
from __future__ import annotations

import os
from concurrent.futures import Future

from bench.errors import BenchError
from bench.executors import Resources, missing_extra
from bench.executors.task import invoke

PRIVATE_OBJECT_STORE = 100 * 1024 ** 2  # runs exchange small dicts; keep /dev/shm free


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
        if self.address:
            self.private = False
            ray.init(address=self.address, log_to_driver=False)
        else:
            self.private = True
            # `workers` runs at a time, each holding its CPUs: that is the private instance's size
            cpus = num_cpus or max(1, int(workers)) * (cpus_per_run or 1)
            ray.init(address="local", num_cpus=cpus, num_gpus=num_gpus,
                     include_dashboard=False, log_to_driver=False,
                     object_store_memory=PRIVATE_OBJECT_STORE)
        self._remote = ray.remote(invoke)

    def describe(self) -> str:
        where = f"cluster at {self.address}" if self.address else "private local instance"
        res = self._ray.cluster_resources()
        return f"ray: {where}, {res.get('CPU', 0):g} CPU, {res.get('GPU', 0):g} GPU"

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
        ref = self._remote.options(**options).remote(fn, args, kwargs, env, resources.procs)
        return ref.future()

    def submit_many(self, calls: list[tuple]) -> list[Future]:
        return [self.submit(fn, *args, resources=r, **kw) for fn, args, kw, r in calls]

    def shutdown(self) -> None:
        # Disconnects from a cluster; stops only the private instance this driver started.
        self._ray.shutdown()


def _mem(r: Resources) -> str:
    return f", {r.mem_gb:g} GB" if r.mem_gb else ""
