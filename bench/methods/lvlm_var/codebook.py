"""The VST's codebook and its training, shared by the label-free VQ-VAE (vqvae.py) and the
classifier VST (vst.py): an EMA vector quantiser with dead-code restarts, k-means
initialisation, the joint encoder + codebook epochs, and their progress lines. `data` is a
vst.WindowStream (anything with epoch(), ordered(), sample_units() and len())."""
from __future__ import annotations

import logging
import time

import torch
from torch import nn

from bench import progress, tracking

log = logging.getLogger("bench")
BLOCK = 65536  # rows per distance block: NTU's ~10^6 windows x 1024 codes would not fit at once
# Memory bounds (issue 18): embeddings k-means starts from (a random subset of whole clips
# beyond it), and embeddings kept per epoch for dead-code restarts (a random share of each
# batch beyond it).
KMEANS_WINDOWS = 131072
POOL_WINDOWS = 65536
LOG_EVERY_S = 30.0  # an epoch line at least this often, and the first and last epochs


class VectorQuantizer(nn.Module):
    """A codebook with EMA updates (decay), Laplace-smoothed counts and dead-code restarts."""

    def __init__(self, size: int, dim: int, decay: float):
        super().__init__()
        self.decay = decay
        self.register_buffer("codebook", torch.zeros(size, dim))
        self.register_buffer("ema_count", torch.ones(size))
        self.register_buffer("ema_sum", torch.zeros(size, dim))

    def distances(self, z: torch.Tensor) -> torch.Tensor:
        c = self.codebook
        return (z * z).sum(1, keepdim=True) - 2 * z @ c.T + (c * c).sum(1)[None]

    def nearest(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Index of and squared distance to the nearest code, BLOCK rows at a time."""
        best = [self.distances(z[i:i + BLOCK]).min(1) for i in range(0, len(z), BLOCK)]
        if not best:
            return torch.zeros(0, dtype=torch.long, device=z.device), z.new_zeros(0)
        return torch.cat([b.indices for b in best]), torch.cat([b.values for b in best])

    def init_from(self, centres: torch.Tensor) -> None:
        self.codebook.copy_(centres)
        self.ema_sum.copy_(centres)
        self.ema_count.fill_(1.0)

    @torch.no_grad()
    def ema_update(self, z: torch.Tensor, idx: torch.Tensor) -> None:
        onehot = torch.zeros(len(z), len(self.codebook), dtype=z.dtype, device=z.device)
        onehot[torch.arange(len(z)), idx] = 1.0
        self.ema_count.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(onehot.T @ z, alpha=1 - self.decay)
        n = self.ema_count.sum()
        count = (self.ema_count + 1e-5) / (n + len(self.codebook) * 1e-5) * n
        self.codebook.copy_(self.ema_sum / count[:, None])

    @torch.no_grad()
    def restart(self, dead: torch.Tensor, pool: torch.Tensor, gen: torch.Generator) -> int:
        dead_idx = torch.nonzero(dead).flatten()
        if len(dead_idx) == 0 or len(pool) == 0:
            return 0
        pick = pool[torch.randint(len(pool), (len(dead_idx),), generator=gen, device=pool.device)]
        self.codebook[dead_idx] = pick
        self.ema_sum[dead_idx] = pick
        self.ema_count[dead_idx] = 1.0
        return len(dead_idx)


def kmeans(x: torch.Tensor, k: int, iters: int, gen: torch.Generator) -> torch.Tensor:
    """k-means++ seeding and Lloyd iterations; with fewer points than k, points are reused."""
    n = len(x)
    centres = [x[torch.randint(n, (1,), generator=gen, device=x.device)].squeeze(0)]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        probs = d2 / d2.sum() if d2.sum() > 0 else torch.full((n,), 1.0 / n, device=x.device)
        nxt = x[torch.multinomial(probs, 1, generator=gen)].squeeze(0)
        centres.append(nxt)
        d2 = torch.minimum(d2, ((x - nxt) ** 2).sum(1))
    c = torch.stack(centres)
    for _ in range(iters):
        assign = torch.cat([torch.cdist(x[i:i + BLOCK], c).argmin(1) for i in range(0, n, BLOCK)])
        sums = torch.zeros_like(c).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        c = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], c)
    return c


class EpochLog:
    """Plain progress lines for the VST's epochs ("vst epoch 3/40 loss 0.1234 (12.3s)", the
    first, the last and one at least every LOG_EVERY_S seconds) and the run's progress step."""

    def __init__(self, total: int, what: str = "vst"):
        self.total, self.what, self.done = total, what, 0
        self.started = self.last = time.perf_counter()

    def epoch(self, phase: str, loss: float) -> None:
        self.done += 1
        now = time.perf_counter()
        progress.step(self.done, self.total, self.what)
        tracking.scalar(f"{self.what}/{phase}_loss", loss, self.done)
        if self.done in (1, self.total) or now - self.last >= LOG_EVERY_S:
            self.last = now
            log.info("%s epoch %d/%d %s loss %.4f (%.1fs)", self.what, self.done, self.total,
                     phase, loss, now - self.started)


def init_codebook(enc: nn.Module, vq: VectorQuantizer, data, cfg: dict,
                  gen: torch.Generator) -> None:
    """k-means on the train windows' embeddings: all of them, or beyond KMEANS_WINDOWS those
    of a random subset of whole clips."""
    units = data.sample_units(KMEANS_WINDOWS, gen)
    with torch.no_grad():
        enc.eval()
        z = [enc(b.inputs) for b in data.ordered(4096, units)]
    z_all = torch.cat(z) if z else torch.zeros(0, vq.codebook.shape[1], device=vq.codebook.device)
    vq.init_from(kmeans(z_all, len(vq.codebook), int(cfg["kmeans_iters"]), gen))


def vq_epochs(enc: nn.Module, vq: VectorQuantizer, data, cfg: dict,
              gen: torch.Generator, opt, task_loss, epochs: EpochLog | None = None) -> int:
    """`vst.vq_epochs` of encoder + codebook training: straight-through quantisation,
    task_loss(z_q, batch) plus the commitment loss, EMA codebook updates, and codes no window
    used in an epoch restarted from that epoch's embeddings (beyond POOL_WINDOWS, a random
    share of each batch's). Returns the restarts."""
    restarts = 0
    share = POOL_WINDOWS / len(data) if len(data) > POOL_WINDOWS else None
    for _ in range(int(cfg["vq_epochs"])):
        enc.train()
        used = torch.zeros(len(vq.codebook), dtype=torch.bool, device=vq.codebook.device)
        pool, total, steps = [], 0.0, 0
        for batch in data.epoch(int(cfg["batch_size"]), gen):
            z = enc(batch.inputs)
            code = vq.nearest(z.detach())[0]
            q = vq.codebook[code]
            z_q = z + (q - z).detach()  # straight-through
            loss = task_loss(z_q, batch) + float(cfg["commitment"]) * ((z - q) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            vq.ema_update(z.detach(), code)
            used[code] = True
            kept = z.detach()
            if share is not None:
                kept = kept[torch.rand(len(kept), generator=gen, device=gen.device) < share]
            pool.append(kept)
            total, steps = total + loss.detach(), steps + 1
        if cfg["restart_dead"]:
            restarts += vq.restart(~used, torch.cat(pool), gen)
        if epochs is not None:
            epochs.epoch("vq", float(total) / max(steps, 1))
    return restarts
