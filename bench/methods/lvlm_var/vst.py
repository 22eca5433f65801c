"""Video-to-Semantic-Tokens: window encoder, VQ codebook, temporally consistent tokenisation.

Training uses the train split only: the encoder learns to tell classes apart from single windows
(cross-entropy on the clip label), the codebook starts from k-means on train window embeddings and
is refined with EMA updates, a commitment loss and dead-code restarts. Tokenisation assigns codes
along a clip with a switch cost (Viterbi), then merges runs of the same token.
"""
from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from bench.methods.lvlm_var.features import WindowSet

log = logging.getLogger("bench")
BLOCK = 65536  # rows per distance block: NTU's ~10^6 windows x 1024 codes would not fit at once


@contextlib.contextmanager
def single_thread():
    """The VST's tensors are small: one thread beats two (no sync, no spinning on a busy box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class WindowEncoder(nn.Module):
    def __init__(self, in_dim: int, hidden: int, dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, dim), nn.LayerNorm(dim))
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.body(x)


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


@dataclass
class VstModel:
    """A trained VST: feature scaling, encoder, codebook, switch cost, code descriptions."""

    encoder: WindowEncoder
    quantizer: VectorQuantizer
    mean: torch.Tensor
    std: torch.Tensor
    switch_cost: float
    descriptions: list = field(default_factory=list)
    train_stats: dict = field(default_factory=dict)

    @torch.no_grad()
    def embed(self, features: np.ndarray) -> torch.Tensor:
        self.encoder.eval()
        x = (torch.from_numpy(features).to(self.mean.device) - self.mean) / self.std
        return torch.cat([self.encoder(x[i:i + 4096]) for i in range(0, len(x), 4096)]) \
            if len(x) else torch.zeros(0, self.quantizer.codebook.shape[1])

    @torch.no_grad()
    def window_codes(self, windows: WindowSet, switch_cost: float | None = None) -> np.ndarray:
        """One code per window; within each clip, assignments pay `switch_cost` per change."""
        lam = self.switch_cost if switch_cost is None else switch_cost
        with single_thread():
            dist = self.quantizer.distances(self.embed(windows.features)).numpy()
        codes = np.empty(len(dist), dtype=np.int64)
        for i in range(len(windows.offsets) - 1):
            sl = windows.clip_slice(i)
            codes[sl] = viterbi(dist[sl], lam)
        return codes

    @property
    def size(self) -> int:
        return len(self.quantizer.codebook)

    @property
    def code_vectors(self) -> torch.Tensor:
        return self.quantizer.codebook


def viterbi(dist: np.ndarray, switch_cost: float) -> np.ndarray:
    """argmin over code paths of sum(dist[t, k_t]) + switch_cost * #(k_t != k_{t-1})."""
    t_len, k = dist.shape
    cost = dist[0].astype(np.float64)
    back = np.zeros((t_len, k), dtype=np.int64)
    arange = np.arange(k)
    for t in range(1, t_len):
        best = int(cost.argmin())
        switch = cost[best] + switch_cost
        stay = cost <= switch
        back[t] = np.where(stay, arange, best)
        cost = np.where(stay, cost, switch) + dist[t]
    path = np.empty(t_len, dtype=np.int64)
    path[-1] = int(cost.argmin())
    for t in range(t_len - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def clip_tokens(codes: np.ndarray, windows: WindowSet, merge_runs: bool,
                max_tokens: int) -> list[list[int]]:
    """Per clip: its window codes, runs merged, uniformly subsampled to at most max_tokens."""
    out = []
    for i in range(len(windows.offsets) - 1):
        seq = codes[windows.clip_slice(i)].tolist()
        if merge_runs:
            seq = [c for j, c in enumerate(seq) if j == 0 or c != seq[j - 1]]
        if len(seq) > max_tokens:
            keep = np.round(np.linspace(0, len(seq) - 1, max_tokens)).astype(int)
            seq = [seq[j] for j in keep]
        out.append(seq)
    return out


def code_stats(codes: np.ndarray, windows: WindowSet, size: int) -> dict:
    """Codebook utilisation and perplexity over windows, and the token flip rate within clips."""
    counts = np.bincount(codes, minlength=size).astype(np.float64)
    p = counts / max(counts.sum(), 1.0)
    nz = p[p > 0]
    flips = pairs = 0
    for i in range(len(windows.offsets) - 1):
        seq = codes[windows.clip_slice(i)]
        flips += int((seq[1:] != seq[:-1]).sum())
        pairs += max(len(seq) - 1, 0)
    return {"utilisation": float((counts > 0).sum() / size),
            "perplexity": float(math.exp(-(nz * np.log(nz)).sum())) if len(nz) else 0.0,
            "flip_rate": flips / pairs if pairs else 0.0}


def train_vst(windows: WindowSet, clip_labels: np.ndarray, num_classes: int, cfg: dict,
              seed: int, device: str | None = None) -> VstModel:
    """Fit encoder and codebook on train windows (cfg: the `vst.*` section, prefix stripped).
    On a GPU when there is one (NTU's millions of windows), else on one CPU thread; the model
    comes back on the CPU either way (tokenisation runs there)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    with single_thread() if device == "cpu" else contextlib.nullcontext():
        model = _train_vst(windows, clip_labels, num_classes, cfg, seed, torch.device(device))
    model.encoder.cpu()
    model.quantizer.cpu()
    model.mean, model.std = model.mean.cpu(), model.std.cpu()
    return model


def _train_vst(windows: WindowSet, clip_labels: np.ndarray, num_classes: int, cfg: dict,
               seed: int, device: torch.device) -> VstModel:
    gen = torch.Generator(device=device).manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.from_numpy(windows.features).to(device)
    y = torch.from_numpy(np.asarray(clip_labels)[windows.clip_index]).long().to(device)
    mean, std = x.mean(0), x.std(0).clamp(min=1e-4)
    x = (x - mean) / std
    enc = WindowEncoder(x.shape[1], int(cfg["hidden"]), int(cfg["dim"]), num_classes,
                        float(cfg["dropout"])).to(device)
    opt = torch.optim.AdamW(enc.parameters(), lr=float(cfg["lr"]), weight_decay=1e-4)
    bs = int(cfg["batch_size"])
    ce = nn.CrossEntropyLoss()
    for _ in range(int(cfg["epochs"])):
        enc.train()
        for idx in torch.randperm(len(x), generator=gen, device=device).split(bs):
            loss = ce(enc.head(enc(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    vq = VectorQuantizer(int(cfg["codebook"]), int(cfg["dim"]), float(cfg["ema_decay"])).to(device)
    enc.eval()
    with torch.no_grad():
        vq.init_from(kmeans(enc(x), vq.codebook.shape[0], int(cfg["kmeans_iters"]), gen))
    restarts = 0
    for _ in range(int(cfg["vq_epochs"])):
        enc.train()
        used = torch.zeros(len(vq.codebook), dtype=torch.bool, device=device)
        pool = []
        for idx in torch.randperm(len(x), generator=gen, device=device).split(bs):
            z = enc(x[idx])
            code = vq.nearest(z.detach())[0]
            q = vq.codebook[code]
            z_q = z + (q - z).detach()  # straight-through
            loss = ce(enc.head(z_q), y[idx]) + float(cfg["commitment"]) * ((z - q) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            vq.ema_update(z.detach(), code)
            used[code] = True
            pool.append(z.detach())
        if cfg["restart_dead"]:
            restarts += vq.restart(~used, torch.cat(pool), gen)
    model = VstModel(enc.eval(), vq, mean, std, 0.0)
    with torch.no_grad():
        z = model.embed(windows.features)
        code, dist = vq.nearest(z)
        err = dist.clamp(min=0).mean().item()
        model.train_stats["window_acc"] = float((enc.head(vq.codebook[code]).argmax(1)
                                                 == y).float().mean())
    model.switch_cost = float(cfg["flicker_weight"]) * err
    model.train_stats.update({"quantisation_error": err, "dead_code_restarts": restarts})
    return model


def save_vst(model: VstModel, path) -> None:
    torch.save({"encoder": model.encoder.state_dict(), "quantizer": model.quantizer.state_dict(),
                "mean": model.mean, "std": model.std, "switch_cost": model.switch_cost,
                "descriptions": list(model.descriptions), "train_stats": dict(model.train_stats),
                "shape": [model.encoder.body[0].in_features, model.encoder.body[0].out_features,
                          model.quantizer.codebook.shape[1], model.encoder.head.out_features,
                          model.quantizer.codebook.shape[0]]}, path)


def load_vst(path, dropout: float = 0.0, decay: float = 0.99) -> VstModel:
    state = torch.load(path, weights_only=True)
    in_dim, hidden, dim, classes, size = state["shape"]
    enc = WindowEncoder(in_dim, hidden, dim, classes, dropout)
    enc.load_state_dict(state["encoder"])
    vq = VectorQuantizer(size, dim, decay)
    vq.load_state_dict(state["quantizer"])
    return VstModel(enc.eval(), vq, state["mean"], state["std"], float(state["switch_cost"]),
                    list(state["descriptions"]), dict(state["train_stats"]))
