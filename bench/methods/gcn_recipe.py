"""The pieces of the GCNs' small-data recipe (the `cpu` profile; see baselines/stgcn_cpu.py): a
train-only augmentation step, the final fit on train+val, and one formatted person for
single-person data. Pure edits of mmengine config nodes and checks of method config fields;
mmaction_gcn applies them.
"""
from __future__ import annotations

import copy

import numpy as np

from bench.errors import BenchError

FIT_ON = ("train", "train+val")
AUGMENT_STEP = "RandomRotScale"  # gcn_models/transforms.py
AUGMENT_KEYS = ("yaw_deg", "tilt_deg", "scale")
_PRENORMALISE = ("PreNormalize3D", "PreNormalize2D", "LayoutPreNormalize3D")


def check_fit_on(config: dict, who: str) -> None:
    fit_on = config.get("fit_on", "train")
    if fit_on not in FIT_ON:
        raise BenchError(f"{who}: config field fit_on={fit_on!r}; expected one of "
                         f"{', '.join(FIT_ON)}")


def check_augment(config: dict, who: str) -> None:
    """`augment` is None or {yaw_deg, tilt_deg, scale} with angles >= 0 and 0 <= scale < 1."""
    augment = config.get("augment")
    if augment is None:
        return
    expected = ("expected null or {yaw_deg: degrees >= 0, tilt_deg: degrees >= 0, "
                "scale: 0 <= fraction < 1}")
    if not isinstance(augment, dict) or set(augment) != set(AUGMENT_KEYS):
        raise BenchError(f"{who}: config field augment={augment!r}; {expected}")
    for key in AUGMENT_KEYS:
        value = augment[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                or (key == "scale" and value >= 1):
            raise BenchError(f"{who}: config field augment.{key}={value!r}; {expected}")


def set_train_augmentation(dataset, augment: dict | None) -> None:
    """The train pipeline's RandomRotScale step with these values, right after
    pre-normalisation (its rotations assume the spine on z); None removes it."""
    pipeline = [step for step in dataset.pipeline if step.get("type") != AUGMENT_STEP]
    if augment is not None:
        at = next((i + 1 for i, step in enumerate(pipeline)
                   if step.get("type") in _PRENORMALISE), 0)
        pipeline.insert(at, dict(type=AUGMENT_STEP, **augment))
    dataset.pipeline = pipeline


def train_on_train_and_val(cfg, train_dataset) -> None:
    """The final fit: train on train and val together (a ConcatDataset of the two splits, val
    read with the train pipeline); no val loop, so the last epoch's checkpoint is kept."""
    val = copy.deepcopy(train_dataset)
    val.split = "val"
    both = dict(type="ConcatDataset", datasets=[train_dataset, val])
    if cfg.train_dataloader.dataset.get("type") == "RepeatDataset":
        cfg.train_dataloader.dataset.dataset = both
    else:
        cfg.train_dataloader.dataset = dict(type="RepeatDataset", times=1, dataset=both)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.save_best = None


def bodies_in(data, chunk: int = 512) -> int:
    """The most bodies any clip of the bundle holds (1 for single-person datasets such as
    UTD-MHAD and MSR Action3D, whose arrays are padded to 2); stops once a clip has them all,
    so NTU-size bundles are not scanned whole."""
    most = 1
    for name in ("train", "val", "test"):
        keypoint = getattr(data, name).keypoint
        for start in range(0, len(keypoint), chunk):
            block = keypoint[start:start + chunk, most:]
            if block.size == 0:
                return most
            present = np.abs(block).reshape(block.shape[0], block.shape[1], -1).max(-1) > 0
            if present.any():
                most += int(np.nonzero(present.any(0))[0].max()) + 1
    return most


def limit_persons(cfg, datasets, bodies: int) -> None:
    """Format at most `bodies` persons per clip in these datasets (and size the backbone's
    per-person data BN for them): on single-person data the recipe's second, all-zero person
    only doubles the work, so single-person configs (CTR-GCN's NW-UCLA one, say) use one."""
    steps = [step for dataset in datasets for step in dataset.pipeline
             if step.get("type") == "FormatGCNInput"]
    if not steps or bodies >= max(int(step.get("num_person", 2)) for step in steps):
        return
    for step in steps:
        step.num_person = bodies
    cfg.model.backbone.num_person = bodies
