"""LVLM-VAR's LoRA training data-parallel over the processes of one run (one per GPU).

`--gpus-per-run N` (or `--procs-per-run N`, which also works without GPUs) makes the executor
start the whole run under torchrun; every rank calls `LvlmVar.fit`, which joins a group here:
- the VST stage is trained once, by rank 0 into the stage cache; the other ranks wait, then read
  it from there (`rank0_first`);
- every rank builds the same LM (same seed; rank 0's trainable weights are broadcast anyway, as
  DDP does) and draws the same global batches from the same generator (token noise included);
  each rank runs the forward and backward pass of its shard of each global batch only;
- the gradients of the trainable weights (LoRA, projector, injected code embeddings) are summed
  over the ranks in one all-reduce per step, each rank's loss being its answer tokens' weighted
  sum divided by the weight total of the whole global batch; so every rank takes the same
  optimizer step as one process on the whole batch (same global batch, same number of steps).
Rank 0 writes the adapter. The group is closed after training: prediction then runs as in a
single-process run on every rank with the same weights, and the runner keeps rank 0's result.

Backends: gloo on CPU; on GPUs nccl for the gradients (each rank on the GPU LOCAL_RANK) plus a
gloo group for the CPU-side coordination (barriers, consistency checks), whose waits may last a
whole VST training.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from datetime import timedelta

import torch

from bench.errors import BenchError

log = logging.getLogger("bench")
# The coordination group waits while rank 0 trains the VST (minutes to hours at NTU120 size); a
# rank that fails closes its group, so its gloo peers stop with an error rather than at this
# timeout. nccl waits only within training steps: a hung peer is found sooner.
COORDINATION_TIMEOUT = timedelta(hours=12)
NCCL_TIMEOUT = timedelta(minutes=30)


def launched_ranks() -> int:
    """The number of processes torchrun started for this run (1 outside torchrun)."""
    if "LOCAL_RANK" not in os.environ:
        return 1
    return int(os.environ.get("WORLD_SIZE", "1"))


class Group:
    """This process's place in a data-parallel LoRA run."""

    def __init__(self, rank: int, size: int, owned: bool, cpu_group=None):
        self.rank, self.size, self.owned = rank, size, owned
        self._cpu = cpu_group  # None: the default group (gloo) does the CPU-side work too

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -------------------------------------------------------------- coordination (CPU, gloo)
    def barrier(self) -> None:
        import torch.distributed as dist

        # an all-reduce on the gloo group: a plain barrier on an nccl default group would need
        # a GPU stream and the nccl timeout
        dist.all_reduce(torch.zeros(1), group=self._cpu)

    @contextlib.contextmanager
    def rank0_first(self):
        """Rank 0 runs the block first (e.g. trains a stage into the cache); the other ranks
        run it after rank 0 has finished it (and find the stage in the cache)."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def check_same(self, value, what: str) -> None:
        """Fail if `value` (picklable) differs between the ranks: they must train on one dataset."""
        import torch.distributed as dist

        digest = hashlib.sha256(pickle.dumps(value)).hexdigest()
        seen: list = [None] * self.size
        dist.all_gather_object(seen, digest, group=self._cpu)
        if len(set(seen)) > 1:
            raise BenchError(f"data-parallel LoRA: the ranks' {what} differ "
                             f"({', '.join(s[:8] for s in seen)})")

    # -------------------------------------------------------------- training
    def shard(self, batch: list) -> list:
        """This rank's share of a global batch: every size-th item (similar lengths per rank,
        as batches are length-grouped)."""
        return batch[self.rank::self.size]

    def _group_for(self, device: torch.device):
        return None if device.type == "cuda" or self._cpu is None else self._cpu

    def broadcast(self, params: list[torch.Tensor]) -> None:
        """Rank 0's values of `params` on every rank (as DDP does at wrap time)."""
        import torch.distributed as dist

        with torch.no_grad():
            for p in params:
                dist.broadcast(p.data, src=0, group=self._group_for(p.device))

    def sum_gradients(self, params: list[torch.Tensor], loss: torch.Tensor) -> float:
        """Sum the gradients of `params` and `loss` over the ranks, in one all-reduce (a float32
        bucket). A gradient missing on every rank stays missing (the optimizer skips it, as in
        one process); missing on some ranks only, it counts as zero there. Returns the summed
        loss."""
        import torch.distributed as dist

        device = params[0].device if params else torch.device("cpu")
        parts = [torch.zeros(p.numel(), device=device) if p.grad is None
                 else p.grad.detach().reshape(-1).to(device, torch.float32) for p in params]
        flags = torch.tensor([p.grad is not None for p in params], dtype=torch.float32,
                             device=device)
        bucket = torch.cat(parts + [flags, loss.detach().reshape(1).to(device, torch.float32)])
        dist.all_reduce(bucket, group=self._group_for(device))
        offset = 0
        for p, seen in zip(params, bucket[-1 - len(params):-1].tolist()):
            n = p.numel()
            if seen > 0:
                grad = bucket[offset:offset + n].view_as(p).to(p.dtype)
                p.grad = grad.to(p.device) if p.grad is None else p.grad.copy_(grad)
            offset += n
        return float(bucket[-1])

    def close(self) -> None:
        import torch.distributed as dist

        if self.owned and dist.is_initialized():
            dist.destroy_process_group()


def join() -> Group | None:
    """The data-parallel group of this run's torchrun ranks, or None for a single process.
    The default group is gloo on CPU-only machines, nccl where CUDA is (with a gloo group for
    coordination); a group someone else started is used as is and left open."""
    size = launched_ranks()
    if size <= 1:
        return None
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    owned = not dist.is_initialized()
    local = int(os.environ.get("LOCAL_WORLD_SIZE", size))
    cuda = torch.cuda.is_available() and torch.cuda.device_count() >= local  # a GPU per rank
    if cuda:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))  # "cuda" means this rank's GPU
    if owned:
        dist.init_process_group(backend="nccl" if cuda else "gloo",
                                timeout=NCCL_TIMEOUT if cuda else COORDINATION_TIMEOUT)
    cpu = None
    if dist.get_backend() != "gloo":
        cpu = dist.new_group(backend="gloo", timeout=COORDINATION_TIMEOUT)
    log.info("data-parallel LoRA: rank %d of %d (%s)", rank, size, dist.get_backend())
    return Group(rank, size, owned, cpu)
