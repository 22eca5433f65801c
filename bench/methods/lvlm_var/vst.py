"""Video-to-Semantic-Tokens: window encoder, VQ codebook, temporally consistent tokenisation.

Training uses the train split only. By default (`vst.objective=reconstruct`, vqvae.py) encoder,
decoder and codebook learn as a VQ-VAE to reconstruct each window's motion, without labels; with
`classify` (an ablation value) the encoder learns the clip label from single windows. Either way
the codebook starts from k-means on train window embeddings and is refined with EMA updates, a
commitment loss and dead-code restarts. Tokenisation assigns codes along a clip with a switch
cost (Viterbi); `vst.merge_runs` optionally merges runs of the same token.

Two encoders (`vst.encoder`): `mlp` embeds each window from its own hand-made features; `stgcn`
runs MMAction2's ST-GCN over the whole clip and pools its output over each window's span, joined
with the window's features, so a window's token can draw on the motion around it.
"""
from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from bench.methods.lvlm_var.codebook import EpochLog, VectorQuantizer, init_codebook, vq_epochs
from bench.methods.lvlm_var.features import ClipWindows, WindowSet

log = logging.getLogger("bench")
# Memory bound of the training stream (issue 18): windows made and held at once (codebook.py
# bounds what k-means and dead-code restarts keep).
CHUNK_WINDOWS = 16384


@contextlib.contextmanager
def single_thread():
    """The VST's tensors are small: one thread beats two (no sync, no spinning on a busy box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class WindowBatch:
    """What an encoder sees of some windows: their features (w, F) and, for the graph encoder,
    the clips they come from (b, persons, T, V, 3), which of those each window is in, and its span."""

    features: torch.Tensor
    clips: torch.Tensor | None = None
    clip_of: torch.Tensor | None = None
    spans: torch.Tensor | None = None


class WindowEncoder(nn.Module):
    """`mlp`: each window from its own features."""

    def __init__(self, in_dim: int, hidden: int, dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, dim), nn.LayerNorm(dim))
        self.head = nn.Linear(dim, num_classes)

    def forward(self, batch: WindowBatch):
        return self.body(batch.features)


class GraphWindowEncoder(nn.Module):
    """`stgcn`: MMAction2's ST-GCN (the cpu baseline's 6 stages, `channels` wide at the start,
    time and width halved/doubled twice) over the clip; a window's embedding is the backbone's
    output averaged over joints, persons present and the window's span, with the window's
    features."""

    def __init__(self, in_dim: int, hidden: int, dim: int, num_classes: int, dropout: float,
                 layout: str, channels: int):
        super().__init__()
        from bench.methods.gcn_models.layouts import mmaction_graph
        from bench.methods.mmaction_setup import import_mmaction

        self.backbone = import_mmaction().MODELS.build(dict(
            type="STGCN", graph_cfg=dict(layout=mmaction_graph(layout), mode="stgcn_spatial"),
            in_channels=3, base_channels=channels, num_stages=6, inflate_stages=[3, 5],
            down_stages=[3, 5]))
        self.window = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.body = nn.Sequential(
            nn.Linear(channels * 4 + hidden, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, dim), nn.LayerNorm(dim))
        self.head = nn.Linear(dim, num_classes)

    def forward(self, batch: WindowBatch):
        seq = self.person_mean(batch.clips)
        pooled = torch.einsum("wct,wt->wc", seq[batch.clip_of],
                              span_weights(batch.spans, seq.shape[-1]))
        return self.body(torch.cat([pooled, self.window(batch.features)], 1))

    def person_mean(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, M, T, V, 3) -> (N, C, T'): the backbone's output averaged over joints and over
        the persons present (the first slot always counts). Only those go through the backbone:
        most two-slot NTU clips have one performer, so this about halves the work."""
        present = clips.flatten(2).abs().sum(-1) > 0
        present[:, 0] = True
        rows = present.nonzero()[:, 0]
        out = self.backbone(clips[present][:, None]).mean(dim=(1, 4))  # (P, C, T')
        total = torch.zeros((len(clips),) + out.shape[1:], dtype=out.dtype, device=out.device)
        return total.index_add(0, rows, out) / present.sum(1).to(out.dtype)[:, None, None]


def span_weights(spans: torch.Tensor, cells: int) -> torch.Tensor:
    """(w, cells): how much of each of `cells` equal time cells a window's [start, end) span
    (fractions of the clip) covers, normalised to sum to 1."""
    edges = torch.arange(cells + 1, device=spans.device, dtype=spans.dtype) / cells
    cover = (torch.minimum(spans[:, 1:], edges[None, 1:])
             - torch.maximum(spans[:, :1], edges[None, :-1])).clamp(min=0)
    return cover / cover.sum(1, keepdim=True).clamp(min=1e-6)


def build_encoder(kind: str, in_dim: int, hidden: int, dim: int, num_classes: int,
                  dropout: float, layout: str = "", channels: int = 0) -> nn.Module:
    if kind == "stgcn":
        return GraphWindowEncoder(in_dim, hidden, dim, num_classes, dropout, layout, channels)
    return WindowEncoder(in_dim, hidden, dim, num_classes, dropout)


class WindowTensors:
    """A WindowSet as tensors on one device (features standardised), cut into encoder batches;
    with `labels` (per window) and `target` (per window, standardised), what training needs."""

    def __init__(self, windows: WindowSet, mean: torch.Tensor, std: torch.Tensor,
                 labels: torch.Tensor | None = None, target: torch.Tensor | None = None):
        device = mean.device
        self.x = (torch.from_numpy(windows.features).to(device) - mean) / std
        self.offsets = windows.offsets
        self.clip_index = torch.from_numpy(windows.clip_index).to(device)
        self.labels, self.target = labels, target
        self.clips = self.spans = None
        if windows.clips is not None:
            self.clips = torch.from_numpy(windows.clips).to(device)
            self.spans = torch.from_numpy(windows.spans).to(device)

    def __len__(self) -> int:
        return len(self.x)

    def batches(self, size: int, gen: torch.Generator | None = None):
        """Index tensors of about `size` windows, shuffled with `gen`, else in order. The
        graph encoder needs whole clips, so its batches are groups of clips."""
        device = self.x.device
        if self.clips is None:
            order = (torch.randperm(len(self), generator=gen, device=device) if gen is not None
                     else torch.arange(len(self), device=device))
            yield from order.split(size)
            return
        n = len(self.offsets) - 1
        order = (torch.randperm(n, generator=gen, device=device) if gen is not None
                 else torch.arange(n, device=device))
        for group in order.split(max(1, round(size * n / max(len(self), 1)))):
            yield torch.cat([torch.arange(int(self.offsets[c]), int(self.offsets[c + 1]),
                                          device=device) for c in group.tolist()])

    def batch(self, idx: torch.Tensor) -> WindowBatch:
        if self.clips is None:
            return WindowBatch(self.x[idx])
        rows, clip_of = torch.unique(self.clip_index[idx], return_inverse=True)
        return WindowBatch(self.x[idx], self.clips[rows], clip_of, self.spans[idx])

    def train_batch(self, idx: torch.Tensor) -> "TrainBatch":
        return TrainBatch(self.batch(idx), self.labels[idx],
                          None if self.target is None else self.target[idx])


@dataclass
class TrainBatch:
    """What one training step sees: the encoder's input, the windows' clip labels and, for the
    VQ-VAE, their standardised reconstruction targets."""

    inputs: WindowBatch
    y: torch.Tensor
    target: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.y)


class StoredWindows:
    """A WindowSet already in memory behind ClipWindows's interface (unit = its clip)."""

    def __init__(self, windows: WindowSet):
        self.held = windows

    @property
    def units(self) -> int:
        return len(self.held.offsets) - 1

    def window_counts(self) -> np.ndarray:
        return np.diff(self.held.offsets)

    def windows(self, units: np.ndarray, kinematics: bool = True) -> WindowSet:
        w = self.held
        rows = [np.arange(w.offsets[u], w.offsets[u + 1]) for u in np.asarray(units).tolist()]
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        counts = self.window_counts()[np.asarray(units, dtype=np.int64)]
        return WindowSet(w.features[rows], w.kinematics[rows] if kinematics else
                         np.zeros((len(rows), 0), np.float32),
                         np.repeat(np.arange(len(counts)), counts),
                         np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                         None if w.clips is None else w.clips[np.asarray(units, dtype=np.int64)],
                         None if w.spans is None else w.spans[rows])


def as_source(windows) -> "ClipWindows | StoredWindows":
    return StoredWindows(windows) if isinstance(windows, WindowSet) else windows


class WindowStream:
    """Training windows streamed from a source (ClipWindows: made from the clips a chunk of
    about CHUNK_WINDOWS windows at a time; StoredWindows: cut from memory), optionally only
    some feature `columns` (a body part's), with each unit's clip label and, when `target` is
    given ({pose_frames, context, velocity_weight}), the VQ-VAE's reconstruction target. One
    pass (`scale`) fixes the standardisation of features and targets; then `epoch` yields
    shuffled batches and `ordered` batches in unit order, neither ever holding more than a
    chunk and one batch. Shuffling: units in random order, windows shuffled within a chunk,
    the batch remainder of a chunk carried into the next."""

    def __init__(self, source, unit_labels: np.ndarray, device: torch.device,
                 columns: np.ndarray | None = None, target: dict | None = None):
        self.source = as_source(source)
        self.labels = np.asarray(unit_labels, dtype=np.int64)
        self.device, self.columns, self.target_spec = device, columns, target
        self.counts = self.source.window_counts()
        self.graph = False
        self.mean = self.std = self.t_mean = self.t_std = self.colw = None

    def __len__(self) -> int:
        return int(self.counts.sum())

    @property
    def units(self) -> int:
        return len(self.counts)

    def _chunks(self, order: np.ndarray):
        """Groups of consecutive units of `order` holding about CHUNK_WINDOWS windows."""
        ends = np.cumsum(self.counts[order])
        start = 0
        while start < len(order):
            stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK_WINDOWS,
                                       side="right"))
            stop = max(stop, start + 1)
            yield order[start:stop]
            start = stop

    def _raw(self, units: np.ndarray) -> tuple[WindowSet, np.ndarray | None]:
        """The windows of `units` (their columns) and their raw reconstruction target."""
        from bench.methods.lvlm_var.vqvae import motion_target

        w = self.source.windows(units, kinematics=False)
        if self.columns is not None:
            w = WindowSet(np.ascontiguousarray(w.features[:, self.columns]), w.kinematics,
                          w.clip_index, w.offsets, w.clips, w.spans)
        self.graph = w.clips is not None
        target = None
        if self.target_spec is not None:
            t = self.target_spec
            target = motion_target(w.features, int(t["pose_frames"]), t["context"],
                                   float(t["velocity_weight"]))[0]
        return w, target

    def scale(self) -> None:
        """Mean and std (unbiased, as torch.std) of the features and targets over every
        window, merged chunk by chunk in float64 (Chan et al.'s pairwise update)."""
        stats = [None, None]
        for units in self._chunks(np.arange(self.units)):
            w, target = self._raw(units)
            for k, x in enumerate((w.features, target)):
                if x is None or not len(x):
                    continue
                x = x.astype(np.float64)
                n_b, mean_b = len(x), x.mean(0)
                m2_b = ((x - mean_b) ** 2).sum(0)
                if stats[k] is None:
                    stats[k] = [n_b, mean_b, m2_b]
                    continue
                n_a, mean_a, m2_a = stats[k]
                n = n_a + n_b
                delta = mean_b - mean_a
                stats[k] = [n, mean_a + delta * n_b / n, m2_a + m2_b + delta ** 2 * n_a * n_b / n]

        def finish(st, floor):
            n, mean, m2 = st
            std = np.sqrt(m2 / max(n - 1, 1))
            return (torch.from_numpy(mean.astype(np.float32)).to(self.device),
                    torch.from_numpy(std.astype(np.float32)).clamp(min=floor).to(self.device))

        self.mean, self.std = finish(stats[0], 1e-4)
        if self.target_spec is not None:
            from bench.methods.lvlm_var.vqvae import motion_target

            t = self.target_spec
            self.t_mean, self.t_std = finish(stats[1], 1e-4)
            width = len(self.mean)
            colw = motion_target(np.zeros((1, width), np.float32), int(t["pose_frames"]),
                                 t["context"], float(t["velocity_weight"]))[1]
            self.colw = torch.from_numpy(colw).to(self.device)

    def _tensors(self, units: np.ndarray) -> WindowTensors:
        w, target = self._raw(units)
        labels = torch.from_numpy(self.labels[units][w.clip_index]).to(self.device)
        t = None
        if target is not None:
            t = (torch.from_numpy(target).to(self.device) - self.t_mean) / self.t_std
        return WindowTensors(w, self.mean, self.std, labels, t)

    def epoch(self, size: int, gen: torch.Generator):
        """Shuffled TrainBatches of `size` windows (the graph encoder: groups of whole clips)."""
        order = torch.randperm(self.units, generator=gen, device=gen.device).cpu().numpy()
        carry = None
        for units in self._chunks(order):
            data = self._tensors(units)
            if self.graph:
                yield from (data.train_batch(idx) for idx in data.batches(size, gen))
                continue
            x, y, t = data.x, data.labels, data.target
            if carry is not None:
                x, y = torch.cat([carry.inputs.features, x]), torch.cat([carry.y, y])
                t = None if t is None else torch.cat([carry.target, t])
            perm = torch.randperm(len(x), generator=gen, device=gen.device).to(x.device)
            full = len(x) // size * size
            for idx in perm[:full].split(size):
                yield TrainBatch(WindowBatch(x[idx]), y[idx], None if t is None else t[idx])
            rest = perm[full:]
            carry = (TrainBatch(WindowBatch(x[rest]), y[rest], None if t is None else t[rest])
                     if len(rest) else None)
        if carry is not None:
            yield carry

    def ordered(self, size: int, units: np.ndarray | None = None):
        """TrainBatches in unit order (of `units`, default all), for passes without training."""
        for chunk in self._chunks(np.arange(self.units) if units is None else units):
            data = self._tensors(chunk)
            yield from (data.train_batch(idx) for idx in data.batches(size))

    def sample_units(self, limit: int, gen: torch.Generator) -> np.ndarray | None:
        """None when all windows fit in `limit`; else random whole units holding about
        `limit` windows, in unit order."""
        if len(self) <= limit:
            return None
        order = torch.randperm(self.units, generator=gen, device=gen.device).cpu().numpy()
        keep = int(np.searchsorted(np.cumsum(self.counts[order]), limit, side="right"))
        return np.sort(order[:max(keep, 1)])


@dataclass
class VstModel:
    """A trained VST: feature scaling, encoder, codebook, switch cost, code descriptions."""

    encoder: nn.Module
    quantizer: VectorQuantizer
    mean: torch.Tensor
    std: torch.Tensor
    switch_cost: float
    descriptions: list = field(default_factory=list)
    train_stats: dict = field(default_factory=dict)
    spec: dict = field(default_factory=dict)  # what build_encoder needs to rebuild the encoder
    code_means: object = None  # decode.CodeMeans: each code's mean train window

    @torch.no_grad()
    def embed(self, windows: WindowSet | WindowTensors) -> torch.Tensor:
        self.encoder.eval()
        data = (windows if isinstance(windows, WindowTensors)
                else WindowTensors(windows, self.mean, self.std))
        out = [self.encoder(data.batch(idx)) for idx in data.batches(1024)]
        return torch.cat(out) if out else torch.zeros(0, self.quantizer.codebook.shape[1])

    @torch.no_grad()
    def window_codes(self, windows: WindowSet, switch_cost: float | None = None) -> np.ndarray:
        """One code per window; within each clip, assignments pay `switch_cost` per change."""
        lam = self.switch_cost if switch_cost is None else switch_cost
        with single_thread():
            dist = self.quantizer.distances(self.embed(windows)).numpy()
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


def encode_clips(model, windows: ClipWindows) -> tuple[np.ndarray, np.ndarray, WindowSet]:
    """Every clip's window codes, with the model's switch cost and with none, made a chunk of
    clips at a time (model: a VstModel or PartsVst): what tokenising a split needs, without
    every window's features at once. The WindowSet carries clip_index and offsets only (for
    clip_tokens and code_stats)."""
    codes, raw, counts = [], [], []
    n, step = windows.units, max(1, CHUNK_WINDOWS // 16)  # ~16 windows per clip
    for start in range(0, n, step):
        w = windows.windows(np.arange(start, min(n, start + step)), kinematics=False)
        codes.append(model.window_codes(w))
        raw.append(model.window_codes(w, 0.0))
        counts.append(np.diff(w.offsets))
    counts = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    total = int(offsets[-1])
    held = WindowSet(np.zeros((total, 0), np.float32), np.zeros((total, 0), np.float32),
                     np.repeat(np.arange(len(counts)), counts), offsets)
    return np.concatenate(codes), np.concatenate(raw), held


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
    """Per clip: its window codes, runs merged, uniformly subsampled to at most max_tokens.
    With one code per part and window ((W, parts) codes, vst.parts), a window's tokens stay
    together in part order: windows are subsampled, and runs are runs of whole windows."""
    parts = codes.shape[1] if codes.ndim == 2 else 1
    out = []
    for i in range(len(windows.offsets) - 1):
        rows = codes[windows.clip_slice(i)].reshape(-1, parts).tolist()
        if merge_runs:
            rows = [r for j, r in enumerate(rows) if j == 0 or r != rows[j - 1]]
        limit = max(1, max_tokens // parts)
        if len(rows) > limit:
            keep = np.round(np.linspace(0, len(rows) - 1, limit)).astype(int)
            rows = [rows[j] for j in keep]
        out.append([c for r in rows for c in r])
    return out


def code_stats(codes: np.ndarray, windows: WindowSet, size: int) -> dict:
    """Codebook utilisation and perplexity over windows; within clips, the token flip rate, the
    entropy (bits) of each clip's own token distribution and its distinct tokens, averaged."""
    codes = codes.reshape(len(codes), -1)  # (W, parts): one column per part's codebook
    counts = np.bincount(codes.ravel(), minlength=size).astype(np.float64)
    p = counts / max(counts.sum(), 1.0)
    nz = p[p > 0]
    flips = pairs = 0
    entropy, distinct = [], []
    for i in range(len(windows.offsets) - 1):
        seq = codes[windows.clip_slice(i)]
        flips += int((seq[1:] != seq[:-1]).sum())
        pairs += max(len(seq) - 1, 0) * seq.shape[1]
        _, held = np.unique(seq, return_counts=True)
        q = held / max(held.sum(), 1)
        entropy.append(float(-(q * np.log2(q)).sum()))
        distinct.append(len(held))
    return {"utilisation": float((counts > 0).sum() / size),
            "perplexity": float(math.exp(-(nz * np.log(nz)).sum())) if len(nz) else 0.0,
            "flip_rate": flips / pairs if pairs else 0.0,
            "clip_token_entropy": float(np.mean(entropy)) if entropy else 0.0,
            "clip_distinct_tokens": float(np.mean(distinct)) if distinct else 0.0}


def train_vst(windows: WindowSet | ClipWindows, clip_labels: np.ndarray, num_classes: int,
              cfg: dict, seed: int, device: str | None = None, layout: str = "",
              columns: np.ndarray | None = None, epochs: EpochLog | None = None) -> VstModel:
    """Fit encoder and codebook on train windows (cfg: the `vst.*` section, prefix stripped;
    `layout`: the skeleton layout's name, for the graph encoder). `windows`: held in memory, or
    a ClipWindows that makes them (and the perturbed copies) a chunk of clips at a time;
    `clip_labels`: one per clip (unit) of it; `columns`: train on these feature columns only
    (a body part's); `epochs`: the progress log to count epochs in (one VST per body part
    shares one, so progress and ETA span all parts). On a GPU when there is one (NTU's
    millions of windows), else on one CPU thread; the model comes back on the CPU either way
    (tokenisation runs there)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    with single_thread() if device == "cpu" else contextlib.nullcontext():
        model = _train_vst(windows, clip_labels, num_classes, cfg, seed, torch.device(device),
                           layout, columns, epochs)
    model.encoder.cpu()
    model.quantizer.cpu()
    model.mean, model.std = model.mean.cpu(), model.std.cpu()
    return model


def _train_vst(windows, clip_labels: np.ndarray, num_classes: int, cfg: dict, seed: int,
               device: torch.device, layout: str, columns, epochs: EpochLog | None) -> VstModel:
    gen = torch.Generator(device=device).manual_seed(seed)
    torch.manual_seed(seed)
    target = None
    if cfg["objective"] == "reconstruct":
        target = {k: cfg[k] for k in ("pose_frames", "context", "velocity_weight")}
    data = WindowStream(windows, clip_labels, device, columns, target)
    data.scale()
    spec = {"kind": cfg["encoder"], "in_dim": int(len(data.mean)), "hidden": int(cfg["hidden"]),
            "dim": int(cfg["dim"]), "num_classes": int(num_classes), "layout": layout,
            "channels": int(cfg["gcn_channels"])}
    enc = build_encoder(dropout=float(cfg["dropout"]), **spec).to(device)
    vq = VectorQuantizer(int(cfg["codebook"]), int(cfg["dim"]), float(cfg["ema_decay"])).to(device)
    model = VstModel(enc, vq, data.mean, data.std, 0.0, spec=spec)
    log.info("vst: %d windows of %d clips (with perturbed copies) on %s, %d + %d epochs",
             len(data), data.units, device, int(cfg["epochs"]), int(cfg["vq_epochs"]))
    epochs = epochs or EpochLog(int(cfg["epochs"]) + int(cfg["vq_epochs"]))
    if cfg["objective"] == "reconstruct":
        from bench.methods.lvlm_var.vqvae import train_vqvae
        stats = train_vqvae(cfg, gen, enc, data, vq, epochs)
    else:
        stats = _train_classifier_vst(model, data, cfg, gen, epochs)
    model.switch_cost = float(cfg["flicker_weight"]) * stats["quantisation_error"]
    model.train_stats.update(stats)
    return model


def _train_classifier_vst(model: VstModel, data: WindowStream, cfg: dict,
                          gen: torch.Generator, epochs: EpochLog | None = None) -> dict:
    """`vst.objective=classify` (the earlier VST, an ablation value): the encoder learns to tell
    classes apart from windows (cross-entropy on the clip label), then the codebook is fitted."""
    enc, vq = model.encoder, model.quantizer
    opt = torch.optim.AdamW(enc.parameters(), lr=float(cfg["lr"]), weight_decay=1e-4)
    bs = int(cfg["batch_size"])
    ce = nn.CrossEntropyLoss()
    for _ in range(int(cfg["epochs"])):
        enc.train()
        total, steps = 0.0, 0
        for batch in data.epoch(bs, gen):
            loss = ce(enc.head(enc(batch.inputs)), batch.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.detach(), steps + 1
        if epochs is not None:
            epochs.epoch("classify", float(total) / max(steps, 1))
    init_codebook(enc, vq, data, cfg, gen)
    restarts = vq_epochs(enc, vq, data, cfg, gen, opt,
                         lambda z_q, batch: ce(enc.head(z_q), batch.y), epochs)
    err = correct = 0.0
    with torch.no_grad():
        enc.eval()
        for batch in data.ordered(4096):
            code, dist = vq.nearest(enc(batch.inputs))
            err += float(dist.clamp(min=0).sum())
            correct += float((enc.head(vq.codebook[code]).argmax(1) == batch.y).sum())
    n = max(len(data), 1)
    return {"quantisation_error": err / n, "window_acc": correct / n,
            "dead_code_restarts": restarts}


def save_vst(model: VstModel, path) -> None:
    torch.save({"encoder": model.encoder.state_dict(), "quantizer": model.quantizer.state_dict(),
                "mean": model.mean, "std": model.std, "switch_cost": model.switch_cost,
                "descriptions": list(model.descriptions), "train_stats": dict(model.train_stats),
                "spec": dict(model.spec)}, path)


def load_vst(path, dropout: float = 0.0, decay: float = 0.99) -> VstModel:
    state = torch.load(path, weights_only=True)
    spec = state["spec"]
    enc = build_encoder(dropout=dropout, **spec)
    enc.load_state_dict(state["encoder"])
    vq = VectorQuantizer(*state["quantizer"]["codebook"].shape, decay)
    vq.load_state_dict(state["quantizer"])
    return VstModel(enc.eval(), vq, state["mean"], state["std"], float(state["switch_cost"]),
                    list(state["descriptions"]), dict(state["train_stats"]), spec)
