"""Multi-process training of an MMAction2 recognizer under torchrun (mmengine launcher 'pytorch').

Two ways in, one training path (`train_in_group`, run by every rank):
- the method's `nproc` > 1: the run's process dumps the resolved config into its workdir and
  launches `torchrun --standalone --nproc-per-node N -m bench.methods.mmaction_dist CONFIG WORKDIR`;
- an executor started the whole run under torchrun (`--procs-per-run`): every rank calls fit, and
  trains here in-process.
DistributedDataParallel runs over gloo on CPU (nccl on GPUs, one per rank), DefaultSampler shards
the data, rank 0 writes the checkpoints; afterwards the group is closed, so prediction runs as in
a single-process run. The batch size is per process, as in MMAction2 (8 GPUs x 16).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RESULT_FILE = "dist_train.json"  # rank 0 reports the best val score here


def in_torchrun() -> bool:
    """Whether this process is one rank of several started by torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ


def train_with_torchrun(cfg, nproc: int, workdir: Path) -> float | None:
    """Train `cfg` on `nproc` processes; returns the best val top-1 (None without val)."""
    workdir = Path(workdir)
    config_file = workdir / "train_config.py"
    cfg.dump(str(config_file))
    log_file = workdir / "torchrun.log"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", "-m", "bench.methods.mmaction_dist",
               str(config_file), str(workdir)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    with open(log_file, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        tail = log_file.read_text().strip().splitlines()[-15:]
        raise RuntimeError(f"torchrun training on {nproc} processes failed "
                           f"(exit {done.returncode}; log {log_file}):\n" + "\n".join(tail))
    return json.loads((workdir / RESULT_FILE).read_text())["best_score"]


def train_in_group(mm, cfg, workdir: Path) -> tuple[str, float | None, str]:
    """Train as one rank of the torchrun group. Returns rank 0's (work_dir, best val score,
    workdir), the same in every rank, and leaves no process group behind."""
    import torch
    import torch.distributed as dist

    from bench.methods.mmaction_setup import run_phase
    from bench.methods.mmaction_setup import trusted_checkpoints

    cfg.launcher = "pytorch"
    if torch.cuda.is_available():
        cfg.env_cfg.dist_cfg = dict(backend="nccl")  # mmengine joins the group, one GPU a rank
    else:
        if not dist.is_initialized():  # mmengine's own init calls torch.cuda.set_device
            dist.init_process_group(backend="gloo")
        # DDP on CPU modules takes no device ids (mmengine's default passes LOCAL_RANK)
        cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", device_ids=None,
                                     broadcast_buffers=False)
    with trusted_checkpoints(workdir):
        runner = run_phase(mm, cfg, "train")
    best = runner.message_hub.get_info("best_score")
    shared = [str(cfg.work_dir), None if best is None else float(best), str(workdir)]
    dist.broadcast_object_list(shared, src=0)
    dist.barrier()  # checkpoints written; without a barrier gloo ranks sometimes abort at exit
    dist.destroy_process_group()
    return shared[0], shared[1], shared[2]


def main(argv: list[str]) -> int:
    import torch

    from bench.methods.mmaction_setup import import_mmaction

    config_file, workdir = Path(argv[0]), Path(argv[1])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    mm = import_mmaction()
    _, best, _ = train_in_group(mm, mm.Config.fromfile(str(config_file)), workdir)
    if int(os.environ["RANK"]) == 0:
        tmp = workdir / (RESULT_FILE + ".tmp")
        tmp.write_text(json.dumps({"best_score": best,
                                   "world_size": int(os.environ["WORLD_SIZE"])}))
        os.replace(tmp, workdir / RESULT_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
