"""Executors run calls behind one interface: submit(fn, *args, resources=...) -> Future.

`local` (a process pool with a GPU slot pool), `ray` (an existing cluster or a private local
instance) and `slurm` (submitit job arrays). Ray and submitit are optional extras, imported only
inside their executors. Every executor runs a call through `bench.executors.task.invoke`, which
sets the run's environment and, for a run of several processes, launches it under torchrun.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from bench.errors import BenchError
from bench.registry import Registry

EXECUTORS = Registry("executor")
EXECUTORS.register("local", "bench.executors.local:LocalExecutor")
EXECUTORS.register("ray", "bench.executors.ray_cluster:RayExecutor")
EXECUTORS.register("slurm", "bench.executors.slurm:SlurmExecutor")


@dataclass(frozen=True)
class Resources:
    """What one run asks for. procs > 1 makes the run one task of `procs` torchrun processes."""

    cpus: int = 1
    gpus: int = 0
    procs: int = 1
    mem_gb: float | None = None
    timeout_min: int = 24 * 60

    def __post_init__(self):
        if self.cpus < 1 or self.gpus < 0 or self.procs < 1:
            raise BenchError(f"invalid run resources: cpus={self.cpus} (>= 1), gpus={self.gpus} "
                             f"(>= 0), procs={self.procs} (>= 1)")
        if self.gpus and self.procs > 1 and self.procs != self.gpus:
            raise BenchError(f"a multi-GPU run uses one process per GPU: got {self.gpus} GPUs "
                             f"and {self.procs} processes")

    def describe(self) -> str:
        parts = [f"{self.cpus} CPU"] + ([f"{self.gpus} GPU"] if self.gpus else [])
        return ", ".join(parts + ([f"{self.procs} procs"] if self.procs > 1 else []))


def make_executor(name: str | None = None, **options):
    """The executor named by `name`, else $BENCH_EXECUTOR, else local."""
    name = name or os.environ.get("BENCH_EXECUTOR") or "local"
    return EXECUTORS.get(name)(**options)


def missing_extra(extra: str, module: str) -> BenchError:
    return BenchError(f"the {extra} executor needs the optional package {module!r}: "
                      f"pip install 'bench[{extra}]'")
