"""Executors run RunSpecs behind one interface: submit(fn, *args) -> concurrent.futures.Future."""
from bench.registry import Registry

EXECUTORS = Registry("executor")
EXECUTORS.register("local", "bench.executors.local:LocalExecutor")
