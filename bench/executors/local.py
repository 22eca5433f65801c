"""Local executor: a process pool (each run in a fresh interpreter: clean mmengine/torch state) and
a GPU slot pool, so concurrent runs never share a GPU: each run sees only its own devices through
CUDA_VISIBLE_DEVICES.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bench.errors import BenchError
from bench.executors import Resources
from bench.executors.task import invoke


def detect_gpus() -> list[str]:
    """GPU ids this machine offers: $CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists.
    No torch import: the driver stays light."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    listed = [line for line in out.stdout.splitlines() if line.startswith("GPU ")]
    return [str(i) for i in range(len(listed))]


class GpuSlots:
    """Hands out distinct GPU ids; take() blocks until enough are free."""

    def __init__(self, ids: list[str]):
        self.free = list(ids)
        self.total = len(ids)
        self._cond = threading.Condition()

    def take(self, n: int) -> list[str]:
        if n > self.total:
            raise BenchError(f"a run asks for {n} GPUs but this machine has {self.total}")
        with self._cond:
            self._cond.wait_for(lambda: len(self.free) >= n)
            taken, self.free = self.free[:n], self.free[n:]
            return taken

    def give_back(self, ids: list[str]) -> None:
        with self._cond:
            self.free.extend(ids)
            self._cond.notify_all()


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1, gpu_ids: list[str] | None = None,
                 cpus_per_run: int | None = None, log_dir: str | None = None):
        self.workers = max(1, int(workers))
        self.gpus = GpuSlots(detect_gpus() if gpu_ids is None else [str(g) for g in gpu_ids])
        # Share the cores between concurrent runs instead of oversubscribing them; an explicit
        # --cpus-per-run, then OMP_NUM_THREADS (tests, shared machines) win.
        self.threads_per_run = cpus_per_run or int(os.environ.get("OMP_NUM_THREADS") or 0) or max(
            1, (os.cpu_count() or 1) // self.workers)
        self._pool_lock = threading.Lock()
        self._pool = self._new_pool()
        # One dispatcher thread per worker: it waits for GPU slots, then for its process.
        self._dispatch = ThreadPoolExecutor(self.workers, thread_name_prefix="bench-dispatch")

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, max_tasks_per_child=1,
                                   mp_context=multiprocessing.get_context("spawn"))

    def describe(self) -> str:
        gpus = f"GPUs {','.join(self.gpus.free)}" if self.gpus.total else "no GPU"
        return f"local: {self.workers} worker(s), {gpus}"

    def default_gpus(self) -> int:
        return 1 if self.gpus.total else 0

    def threads_for(self, resources: Resources) -> int:
        return self.threads_per_run

    def validate(self, requests: list[Resources]) -> None:
        for r in requests:
            if r.gpus > self.gpus.total:
                raise BenchError(f"a run asks for {r.gpus} GPU(s) but this machine offers "
                                 f"{self.gpus.total} (CUDA_VISIBLE_DEVICES / nvidia-smi)")

    def submit(self, fn, *args, resources: Resources = Resources(), **kwargs) -> Future:
        self.validate([resources])
        return self._dispatch.submit(self._run, fn, args, kwargs, resources)

    def submit_many(self, calls: list[tuple]) -> list[Future]:
        return [self.submit(fn, *args, resources=r, **kw) for fn, args, kw, r in calls]

    def _run(self, fn, args, kwargs, resources: Resources):
        ids = self.gpus.take(resources.gpus) if resources.gpus else []
        env = {"OMP_NUM_THREADS": self.threads_per_run}
        if self.gpus.total:  # a CPU-only run on a GPU machine must not grab GPU 0 by default
            env["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
        try:
            with self._pool_lock:
                pool = self._pool
            try:
                return pool.submit(invoke, fn, args, kwargs, env, resources.procs).result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): this run fails, later runs get a new pool.
                with self._pool_lock:
                    if self._pool is pool:
                        self._pool = self._new_pool()
                raise
        finally:
            if ids:
                self.gpus.give_back(ids)

    def shutdown(self) -> None:
        self._dispatch.shutdown(wait=False, cancel_futures=True)
        with self._pool_lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
