"""Local executor: a process pool, so each run gets a clean interpreter (mmengine, torch state)."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor


class LocalExecutor:
    def __init__(self, workers: int = 1):
        self.workers = max(1, workers)
        # Share the cores between concurrent runs instead of oversubscribing them; an explicit
        # OMP_NUM_THREADS (tests, shared machines) wins.
        self.threads_per_run = int(os.environ.get("OMP_NUM_THREADS") or 0) or max(
            1, (os.cpu_count() or 1) // self.workers)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, max_tasks_per_child=1,
                                         mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn, *args, **kwargs) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
