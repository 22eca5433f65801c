"""What every executor runs on its worker: set the run's environment, then call the function,
directly or, for a run of several processes, as one task running torchrun (rank 0's value wins).

`python -m bench.executors.task CALL.pkl RESULT.pkl` is the per-rank entry point torchrun starts.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path


def invoke(fn, args: tuple, kwargs: dict, env: dict, procs: int = 1):
    from bench.progress import quiet_third_party_bars

    os.environ.update({k: str(v) for k, v in env.items()})
    quiet_third_party_bars()  # the driver shows the run's steps; no tqdm redraws in its stderr
    if procs <= 1:
        return fn(*args, **kwargs)
    return _torchrun(fn, args, kwargs, procs)


def _torchrun(fn, args, kwargs, procs: int):
    with tempfile.TemporaryDirectory(prefix="bench-torchrun-") as tmp:
        call, result = Path(tmp) / "call.pkl", Path(tmp) / "result.pkl"
        call.write_bytes(pickle.dumps((fn, args, kwargs)))
        # --standalone picks a free local rendezvous port, so concurrent runs never collide.
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={procs}", "-m", "bench.executors.task", str(call), str(result)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not result.exists():
            raise RuntimeError(f"torchrun with {procs} processes exited {proc.returncode}:\n"
                               f"{proc.stderr[-4000:]}")
        return pickle.loads(result.read_bytes())


def worker_info(sleep_s: float = 0.0) -> dict:
    """What a worker sees (pid, devices, torchrun rank): an empty run for tests and benchmarks."""
    import time

    started = time.time()
    time.sleep(sleep_s)
    keys = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "RANK", "WORLD_SIZE")
    return {"pid": os.getpid(), "started": started, "ended": time.time(),
            **{k: os.environ.get(k) for k in keys}}


def threads_granted(wait_s: float) -> int:
    """A run that waits up to `wait_s` for the executor to hand it more CPU threads
    (bench/cpu_share.py); returns the torch threads it ends with. For tests."""
    import time

    import torch

    from bench.cpu_share import adopt_freed_cpus

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and adopt_freed_cpus() <= 1:
        time.sleep(0.05)
    return torch.get_num_threads()


def _rank_main(call_path: str, result_path: str) -> None:
    fn, args, kwargs = pickle.loads(Path(call_path).read_bytes())
    value = fn(*args, **kwargs)
    if int(os.environ.get("RANK", "0")) == 0:
        tmp = Path(result_path + ".tmp")
        tmp.write_bytes(pickle.dumps(value))
        os.replace(tmp, result_path)


if __name__ == "__main__":
    _rank_main(sys.argv[1], sys.argv[2])
