"""The VST stage, cached by content: train ids + train data fingerprint + VST config + seed.

A sweep over a language-model knob (lora.rank, lvlm.*) finds the same key and reuses the trained
encoder, codebook and code descriptions. Only the train split enters the key and the stage.
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
from bench.methods.lvlm_var.semantics import describe_codes
from bench.methods.lvlm_var.vst import load_vst, save_vst, train_vst
from bench.specs import short_hash
from bench.store import file_lock

log = logging.getLogger("bench")
STAGE_VERSION = 5  # bump when features, training or descriptions change


def stage_seed(seed: int, stage: str) -> int:
    """The seed of one stage of a run: its randomness never depends on what ran before it."""
    return int(hashlib.sha256(f"{seed}:{stage}".encode()).hexdigest()[:8], 16)


def train_fingerprint(data: DataBundle) -> str:
    h = hashlib.sha256()
    for arr in (data.train.keypoint, data.train.num_frames, data.train.labels):
        a = np.ascontiguousarray(arr)
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.tobytes())
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


def _fit_or_load_locked(method, data: DataBundle, target: Path):
    cfg = method.config
    if (target / "vst.pt").is_file():
        log.info("VST cache hit: %s", target)
        return _load(target, cfg), True
    log.info("VST cache miss: training into %s", target)
    train_windows = method._windows(data.train, data, augment=True)
    copies = (len(train_windows.offsets) - 1) // len(data.train)  # originals + perturbed copies
    labels = np.tile(data.train.labels, copies)
    windows = method._windows(data.train, data)  # descriptions come from the real clips only
    vst_cfg, threshold = section(cfg, "vst"), float(cfg["sem.still_threshold"])
    if cfg["vst.parts"] == "none":
        model = train_vst(train_windows, labels, data.num_classes, vst_cfg, method.seed,
                          layout=data.layout)
        model.descriptions = describe_codes(windows.kinematics, model.window_codes(windows),
                                            model.code_vectors.numpy(), threshold)
    else:
        model = _train_parts(train_windows, windows, labels, data, cfg, method.seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    _save(model, tmp)
    (tmp / "descriptions.json").write_text(json.dumps(model.descriptions, indent=1))
    try:
        os.replace(tmp, target)
    except OSError:  # a concurrent run stored the same stage first
        shutil.rmtree(tmp, ignore_errors=True)
    return model, False


def _train_parts(train_windows, windows, labels, data: DataBundle, cfg: dict, seed: int):
    """vst.parts: one VST per body part on its own columns, described by that part alone."""
    from bench.data.layouts import get_layout
    from bench.methods.lvlm_var.features import with_virtual_joints
    from bench.methods.lvlm_var.parts import DESCRIBED_BY, PartsVst, group_columns, part_windows
    from bench.methods.lvlm_var.vqvae import CONTEXT_BLOCKS

    base = get_layout(data.layout)
    layout = with_virtual_joints(np.zeros((1, base.num_joints, 3)), base)[1]
    groups = group_columns(windows, layout, cfg["vst.parts"], int(cfg["vst.pose_frames"]),
                           CONTEXT_BLOCKS[cfg["vst.context"]])
    models, descriptions, stats = [], [], {}
    for k, (name, cols) in enumerate(groups):
        model = train_vst(part_windows(train_windows, cols), labels, data.num_classes,
                          section(cfg, "vst"), stage_seed(seed, f"vst-part-{k}"),
                          layout=data.layout)
        codes = model.window_codes(part_windows(windows, cols))
        descriptions += describe_codes(windows.kinematics, codes, model.code_vectors.numpy(),
                                       float(cfg["sem.still_threshold"]), DESCRIBED_BY[name])
        models.append(model)
        for key, value in model.train_stats.items():
            stats[key] = stats.get(key, 0.0) + value / len(groups)  # mean over parts
    return PartsVst([n for n, _ in groups], [c for _, c in groups], models, descriptions, stats)


def _save(model, folder: Path) -> None:
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
    if not (folder / "parts.json").is_file():
        return load_vst(folder / "vst.pt", decay=decay)
    from bench.methods.lvlm_var.parts import PartsVst

    meta = json.loads((folder / "parts.json").read_text())
    models = [load_vst(folder / f"vst-part-{k}.pt", decay=decay)
              for k in range(len(meta["names"]))]
    return PartsVst(meta["names"], [np.asarray(c) for c in meta["columns"]], models,
                    meta["descriptions"], meta["train_stats"])
