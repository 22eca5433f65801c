"""Cores freed by finished runs, handed to the runs still going.

At the tail of a sweep (nothing left to start) the local executor's finished runs leave cores
idle while the longest run goes on with its one thread. The executor then writes, into each live
run's share file (`$BENCH_THREADS_FILE`), how many threads it may use now; a run calls
`adopt_freed_cpus()` at its step and batch boundaries and grows its torch thread pool to that.
Only when the threads per run were chosen automatically (not by --cpus-per-run or
$OMP_NUM_THREADS, which are taken as meant). More threads change the order of float sums, so a
run's scores can differ in the last digits from a run that kept one thread.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ENV = "BENCH_THREADS_FILE"
log = logging.getLogger("bench")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's or taskset's share)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity API (macOS)
        return os.cpu_count() or 1


def write_share(path: str | Path, threads: int) -> None:
    """The executor's side: atomically replace the file's count."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(int(threads)))
    os.replace(tmp, path)


def adopt_freed_cpus() -> int:
    """The run's side: grow torch's thread pool to the count the executor handed it (never
    shrink it). Returns the threads now in use, 0 where this run has no share file or no torch."""
    path, torch = os.environ.get(ENV), sys.modules.get("torch")
    if not path or torch is None:
        return 0
    try:
        granted = int(Path(path).read_text())
    except (OSError, ValueError):  # not written yet, or being replaced
        return torch.get_num_threads()
    current = torch.get_num_threads()
    if granted > current:
        torch.set_num_threads(granted)
        log.info("using %d CPU threads (was %d): cores freed by finished runs", granted, current)
        return granted
    return current
