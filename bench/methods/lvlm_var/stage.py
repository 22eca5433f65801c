"""The VST stage, cached by content: train ids + train data fingerprint + VST config + seed.

A sweep over a language-model knob (lora.rank, lvlm.*) finds the same key and reuses the trained
encoder, codebook and code descriptions. Only the train split enters the key and the stage.

Memory (issue 18): the train clips are read a chunk at a time (from the prepared memory-mapped
arrays where the split is one) and their perturbed copies made on the fly (features.ClipWindows),
for training and for the code descriptions alike; nothing holds every window.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from bench.data.bundle import DataBundle
from bench.methods.lvlm_var.config import section
from bench.methods.lvlm_var.decode import CodeMeans, MeanAccumulator
from bench.methods.lvlm_var.features import ClipWindows
from bench.methods.lvlm_var.parts import part_windows
from bench.methods.lvlm_var.semantics import describe_codes
from bench.methods.lvlm_var.vst import CHUNK_WINDOWS, load_vst, save_vst, train_vst
from bench.specs import short_hash
from bench.store import file_lock

log = logging.getLogger("bench")
STAGE_VERSION = 6  # bump when features, training or descriptions change


def stage_seed(seed: int, stage: str) -> int:
    """The seed of one stage of a run: its randomness never depends on what ran before it."""
    return int(hashlib.sha256(f"{seed}:{stage}".encode()).hexdigest()[:8], 16)


def train_fingerprint(data: DataBundle) -> str:
    h = hashlib.sha256()
    for arr in (data.train.keypoint, data.train.num_frames, data.train.labels):
        h.update(str((arr.dtype, arr.shape)).encode())
        for i in range(0, len(arr), 256):  # a few clips at a time: same digest, no full copy
            h.update(np.ascontiguousarray(arr[i:i + 256]).tobytes())
    return h.hexdigest()


def stage_key(config: dict, data: DataBundle, seed: int) -> str:
    payload = {"version": STAGE_VERSION, "train_ids": list(data.train.sample_ids),
               "fingerprint": train_fingerprint(data), "layout": data.layout, "fps": data.fps,
               "num_classes": data.num_classes, "seed": seed,
               "vst": section(config, "vst"), "sem": section(config, "sem")}
    if config["vst.video"] != "none":  # the encoder's weights, wherever its path came from
        from bench.methods.lvlm_var.video import encoder_identity
        payload["video_encoder"] = encoder_identity(config)
    return short_hash(payload, 20)


def fit_or_load_vst(method, data: DataBundle):
    """The trained VST for this config and train split: from the cache, or trained and stored."""
    cfg = method.config
    key = stage_key(cfg, data, method.seed)
    target = Path(method.cache_dir) / "vst" / key
    # Concurrent runs of a sweep (other LoRA ranks) wait here and then load, not train again.
    with file_lock(target.parent / f"{key}.lock"):
        return _fit_or_load_locked(method, data, target)


def clip_windows(method, split, data: DataBundle, augment: bool = False) -> ClipWindows:
    """The windows of a split as method._windows makes them, made on demand a chunk of clips at
    a time; with `augment` (VST training only) plus the perturbed copies."""
    from bench.data.layouts import get_layout

    cfg = method.config
    aug = ({"copies": int(cfg["vst.aug_copies"]), "noise": float(cfg["vst.aug_noise"]),
            "tilt": float(cfg["vst.aug_tilt"]), "warp": float(cfg["vst.aug_warp"]),
            "scale": float(cfg["vst.aug_scale"]), "seed": method.seed}
           if augment and int(cfg["vst.aug_copies"]) > 0 else None)
    stride = data.fps / float(cfg["vst.token_rate"])
    extra = None
    if cfg["vst.video"] != "none":  # per original window; copies keep their clip's video
        if method._video is None:
            from bench.methods.lvlm_var.video import VideoFeatures
            method._video = VideoFeatures(cfg, method.cache_dir)
        extra = method._video.for_split(split, data, stride)
    return ClipWindows(split.keypoint, split.num_frames, get_layout(data.layout),
                       window=int(cfg["vst.window"]), stride=stride,
                       pose_frames=int(cfg["vst.pose_frames"]), context=cfg["vst.context"],
                       augment=aug, clip_frames=(int(cfg["vst.clip_frames"])
                                                 if cfg["vst.encoder"] == "stgcn" else 0),
                       clip_persons=min(2, data.train.keypoint.shape[1]), extra=extra)


def _fit_or_load_locked(method, data: DataBundle, target: Path):
    cfg = method.config
    if (target / "vst.pt").is_file():
        log.info("VST cache hit: %s", target)
        model = _load(target, cfg)
        if model.code_means is None:  # a stage stored before code means were kept
            model.code_means = _code_means(model, clip_windows(method, data.train, data))
            try:
                _write_code_means(model.code_means, target)
            except OSError:  # a read-only (pre-filled) cache: recomputed on each load
                log.info("VST cache is read-only: code means not stored in %s", target)
        return model, True
    log.info("VST cache miss: training into %s", target)
    train = clip_windows(method, data.train, data, augment=True)
    labels = np.tile(data.train.labels, train.copies)  # one per unit: clip and its copies
    windows = clip_windows(method, data.train, data)  # descriptions come from the real clips only
    vst_cfg, threshold = section(cfg, "vst"), float(cfg["sem.still_threshold"])
    if cfg["vst.parts"] == "none":
        model = train_vst(train, labels, data.num_classes, vst_cfg, method.seed,
                          layout=data.layout)
        described, model.code_means = describe_streamed(windows, [model], [None], threshold,
                                                        [None])
        model.descriptions = described[0]
    else:
        model = _train_parts(train, windows, labels, data, cfg, method.seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    _save(model, tmp)
    (tmp / "descriptions.json").write_text(json.dumps(model.descriptions, indent=1))
    try:
        os.replace(tmp, target)
    except OSError:  # a concurrent run stored the same stage first
        shutil.rmtree(tmp, ignore_errors=True)
    return model, False


def describe_streamed(windows: ClipWindows, models: list, columns: list, threshold: float,
                      allowed: list) -> tuple[list[list[str]], CodeMeans]:
    """Each model's code descriptions (semantics.describe_codes) from the mean kinematics of the
    windows each code holds, and each code's mean window features (decode.CodeMeans), the
    windows coded a chunk of clips at a time: per code only sums and a count are kept.
    models[k] sees feature columns columns[k] (None: all)."""
    from bench.methods.lvlm_var.features import KIN_DIM

    sums = [np.zeros((m.size, KIN_DIM)) for m in models]
    counts = [np.zeros(m.size, dtype=np.int64) for m in models]
    n, step = windows.units, max(1, CHUNK_WINDOWS // 16)  # ~16 windows per clip
    means = None
    for start in range(0, n, step):
        w = windows.windows(np.arange(start, min(n, start + step)))
        if means is None:
            means = MeanAccumulator([m.size for m in models], [
                np.arange(w.features.shape[1]) if c is None else np.asarray(c) for c in columns])
        for k, (model, cols) in enumerate(zip(models, columns)):
            codes = model.window_codes(w if cols is None else part_windows(w, cols))
            np.add.at(sums[k], codes, w.kinematics.astype(np.float64))
            counts[k] += np.bincount(codes, minlength=model.size)
            means.add(k, codes, w.features)
    out = []
    for model, total, count, allow in zip(models, sums, counts, allowed):
        used = np.flatnonzero(count)
        kin = (total[used] / count[used][:, None]).astype(np.float32)
        # one row per used code: describe_codes's mean of a code's rows is that row
        out.append(describe_codes(kin, used, model.code_vectors.numpy(), threshold, allow))
    from bench.data.body import with_virtual_joints

    layout = windows.layout  # the features' joints: 2D layouts gain virtual joints
    joints = with_virtual_joints(np.zeros((1, layout.num_joints, layout.dims), np.float32),
                                 layout)[1].num_joints
    return out, means.result(joints, windows.pose_frames)


def _train_parts(train: ClipWindows, windows: ClipWindows, labels, data: DataBundle, cfg: dict,
                 seed: int):
    """vst.parts: one VST per body part on its own columns, described by that part alone."""
    from bench.data.layouts import get_layout
    from bench.data.body import with_virtual_joints
    from bench.methods.lvlm_var.codebook import EpochLog
    from bench.methods.lvlm_var.parts import DESCRIBED_BY, PartsVst, group_columns
    from bench.methods.lvlm_var.vqvae import CONTEXT_BLOCKS

    base = get_layout(data.layout)
    layout = with_virtual_joints(np.zeros((1, base.num_joints, 3)), base)[1]
    groups = group_columns(windows.windows(np.arange(min(1, windows.units))), layout,
                           cfg["vst.parts"], int(cfg["vst.pose_frames"]),
                           CONTEXT_BLOCKS[cfg["vst.context"]])
    models, stats = [], {}
    epochs = EpochLog(len(groups) * (int(cfg["vst.epochs"]) + int(cfg["vst.vq_epochs"])))
    for k, (name, cols) in enumerate(groups):
        log.info("vst part %d/%d: %s", k + 1, len(groups), name)
        model = train_vst(train, labels, data.num_classes, section(cfg, "vst"),
                          stage_seed(seed, f"vst-part-{k}"), layout=data.layout, columns=cols,
                          epochs=epochs)
        models.append(model)
        for key, value in model.train_stats.items():
            stats[key] = stats.get(key, 0.0) + value / len(groups)  # mean over parts
    described, code_means = describe_streamed(windows, models, [c for _, c in groups],
                                              float(cfg["sem.still_threshold"]),
                                              [DESCRIBED_BY[name] for name, _ in groups])
    descriptions = [d for part in described for d in part]
    return PartsVst([n for n, _ in groups], [c for _, c in groups], models, descriptions, stats,
                    code_means)


def _code_means(model, windows: ClipWindows) -> CodeMeans:
    """Each code's mean train window (describe_streamed's second result), on its own."""
    models = getattr(model, "models", [model])
    columns = getattr(model, "columns", [None])
    return describe_streamed(windows, models, columns, 0.0, [None] * len(models))[1]


def _write_code_means(means: CodeMeans, folder: Path) -> None:
    tmp = folder / f".code_means-{os.getpid()}.npz"
    np.savez(tmp, **means.arrays())
    os.replace(tmp, folder / "code_means.npz")


def _save(model, folder: Path) -> None:
    _write_code_means(model.code_means, folder)
    if not hasattr(model, "models"):
        save_vst(model, folder / "vst.pt")
        return
    for k, part in enumerate(model.models):
        save_vst(part, folder / f"vst-part-{k}.pt")
    (folder / "parts.json").write_text(json.dumps(
        {"names": model.names, "columns": [c.tolist() for c in model.columns],
         "descriptions": model.descriptions, "train_stats": model.train_stats}))
    (folder / "vst.pt").write_text("per-part VSTs: see parts.json\n")  # the completion marker


def _load(folder: Path, cfg: dict):
    decay = float(cfg["vst.ema_decay"])
    code_means = None
    if (folder / "code_means.npz").is_file():
        with np.load(folder / "code_means.npz") as arrays:
            code_means = CodeMeans.from_arrays(dict(arrays))
    if not (folder / "parts.json").is_file():
        model = load_vst(folder / "vst.pt", decay=decay)
        model.code_means = code_means
        return model
    from bench.methods.lvlm_var.parts import PartsVst

    meta = json.loads((folder / "parts.json").read_text())
    models = [load_vst(folder / f"vst-part-{k}.pt", decay=decay)
              for k in range(len(meta["names"]))]
    return PartsVst(meta["names"], [np.asarray(c) for c in meta["columns"]], models,
                    meta["descriptions"], meta["train_stats"], code_means)
