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
from bench.methods.lvlm_var.vst import VstModel, load_vst, save_vst, train_vst
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


def fit_or_load_vst(method, data: DataBundle) -> tuple[VstModel, bool]:
    """The trained VST for this config and train split: from the cache, or trained and stored."""
    cfg = method.config
    key = stage_key(cfg, data, method.seed)
    target = Path(method.cache_dir) / "vst" / key
    # Concurrent runs of a sweep (other LoRA ranks) wait here and then load, not train again.
    with file_lock(target.parent / f"{key}.lock"):
        return _fit_or_load_locked(method, data, target)


def _fit_or_load_locked(method, data: DataBundle, target: Path) -> tuple[VstModel, bool]:
    cfg = method.config
    if (target / "vst.pt").is_file():
        log.info("VST cache hit: %s", target)
        return load_vst(target / "vst.pt", decay=float(cfg["vst.ema_decay"])), True
    log.info("VST cache miss: training into %s", target)
    train_windows = method._windows(data.train, data, augment=True)
    copies = (len(train_windows.offsets) - 1) // len(data.train)  # originals + perturbed copies
    model = train_vst(train_windows, np.tile(data.train.labels, copies), data.num_classes,
                      section(cfg, "vst"), method.seed, layout=data.layout)
    windows = method._windows(data.train, data)  # descriptions come from the real clips only
    codes = model.window_codes(windows)
    model.descriptions = describe_codes(windows.kinematics, codes, model.code_vectors.numpy(),
                                        float(cfg["sem.still_threshold"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    save_vst(model, tmp / "vst.pt")
    (tmp / "descriptions.json").write_text(json.dumps(model.descriptions, indent=1))
    try:
        os.replace(tmp, target)
    except OSError:  # a concurrent run stored the same stage first
        shutil.rmtree(tmp, ignore_errors=True)
    return model, False
