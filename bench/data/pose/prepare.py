"""Pose datasets (an annotation pickle, or a converted Kinect v1 dataset) -> prepared arrays and a
split manifest.

The prepared folder (see ../prepared.py) holds keypoint (N, M, T, V, 3) float32 zero-padded in time
and persons, num_frames (N,), labels (N,), num_bodies (N,) (each sample's own M), meta.json with
the sample ids, the file's split lists, class names, the source digest and the source's keypoint
dtypes, and extras.json with every other annotation field (annotation_extras.py); so a second run
neither unpickles nor converts again, and an export gives the source's annotations back.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from bench.data.pose.annotation_extras import load_extras, save_extras
from bench.data.layouts import Layout
from bench.data.pose.pkl_io import PoseData, channels3, clip_annotation
from bench.data.prepared import (PaddedArrayFile, build_once, check_clip_frames, load_arrays,
                                  prepared_key, save_arrays)
from bench.errors import BenchError, DataError
from bench.specs import SplitManifest

log = logging.getLogger("bench")
POSE_ARRAYS_VERSION = 2  # bump when the prepared pose-array format changes (2: extras, bodies)
ARRAY_NAMES = ("keypoint", "num_frames", "labels", "num_bodies")


def prepare_pose(kind: str, digest: str, layout: Layout,
                 load: Callable[[], tuple[PoseData, list[str]]]) -> Path:
    """The prepared folder for this source content and layout; `load` runs only on a miss and
    returns the data and the ids of samples it skipped."""
    key = prepared_key(kind, digest, {"layout": layout.name, "version": POSE_ARRAYS_VERSION})

    def fill(tmp: Path) -> None:
        data, skipped = load()
        names, num_frames, labels = _write_keypoint(tmp / "keypoint.npy", data)
        class_names = data.class_names or [f"class {i}" for i in range(data.num_classes)]
        meta = {"names": names, "split": {k: list(v) for k, v in data.split.items()},
                "class_names": list(class_names), "digest": digest, "layout": layout.name,
                "skipped": skipped, **_source_dtypes(data.annotations)}
        save_extras(tmp, data.annotations, data.extra)
        num_bodies = np.array([a["keypoint"].shape[0] for a in data.annotations], np.int64)
        save_arrays(tmp, {"num_frames": num_frames, "labels": labels,
                          "num_bodies": num_bodies}, meta)

    return build_once(key, fill)


def _write_keypoint(path: Path, data: PoseData):
    """Pad every clip into one (N, M, T, V, 3) array written straight to disk, a clip at a time:
    preparation's memory is the unpickled source, not the padded array (it can be larger)."""
    anns = data.annotations
    for i, ann in enumerate(anns):
        check_clip_frames(ann["frame_dir"], ann["keypoint"].shape[1], f"annotations[{i}]")
    m = max(a["keypoint"].shape[0] for a in anns)
    t = max(a["keypoint"].shape[1] for a in anns)
    v = anns[0]["keypoint"].shape[2]
    with PaddedArrayFile(path, (len(anns), m, t, v, 3)) as out:
        for i, ann in enumerate(anns):
            clip = channels3(ann)
            if clip.shape[2] != v:
                raise DataError(f"annotations[{i}].keypoint: {clip.shape[2]} joints, but "
                                f"annotations[0] has {v}")
            out.put(i, clip)
    names = [a["frame_dir"] for a in anns]
    num_frames = np.array([a["keypoint"].shape[1] for a in anns], dtype=np.int64)
    labels = np.array([int(a["label"]) for a in anns], dtype=np.int64)
    return names, num_frames, labels


def _source_dtypes(annotations: list[dict]) -> dict:
    """{"keypoint_dtype": ..., "keypoint_score_dtype": ...} where all samples agree (PYSKL's 2D
    files hold float16), so that an export writes the source's dtypes back."""
    out = {}
    for key in ("keypoint", "keypoint_score"):
        dtypes = {a[key].dtype.str for a in annotations if key in a}
        if len(dtypes) == 1:
            out[f"{key}_dtype"] = dtypes.pop()
    return out


def open_pose(folder: Path) -> dict:
    """The arrays and meta of a prepared folder, with "extras" (one dict of extra annotation
    fields per sample, or None) and "top_level" (the source's other top-level keys)."""
    arrays = load_arrays(folder, ARRAY_NAMES)
    arrays["extras"], arrays["top_level"] = load_extras(folder)
    return arrays


def pose_annotations(arrays: dict, layout: Layout) -> list[dict]:
    """The prepared samples as the source's annotations again: each sample's own body count,
    the source's keypoint dtypes, and its extra fields."""
    meta = arrays["meta"]
    extras = arrays["extras"] or [{}] * len(meta["names"])
    out = []
    for i, name in enumerate(meta["names"]):
        ann = clip_annotation(name, arrays["keypoint"][i], arrays["num_frames"][i],
                              arrays["labels"][i], layout, int(arrays["num_bodies"][i]))
        for key in ("keypoint", "keypoint_score"):
            if key in ann and f"{key}_dtype" in meta:
                ann[key] = ann[key].astype(meta[f"{key}_dtype"])
        ann.update(extras[i])
        out.append(ann)
    return out


def available_protocols(split: dict) -> list[str]:
    return sorted(k[:-6] for k in split if k.endswith("_train") and k[:-6] + "_val" in split)


def pose_manifest(meta: dict, protocol: str, dataset: str, where: str,
                  val_fraction: float = 0.1, seed: int = 0) -> SplitManifest:
    """Train on split['<protocol>_train'], test on split['<protocol>_val'] (MMAction2's name for
    the test partition); val is carved from train only, as make_manifest does."""
    protocols = available_protocols(meta["split"])
    if protocol not in protocols:
        raise BenchError(f"{where} has no split {protocol!r} (needs '{protocol}_train' and "
                         f"'{protocol}_val'); available: {', '.join(protocols) or 'none'}")
    train = sorted(meta["split"][f"{protocol}_train"])
    test = sorted(meta["split"][f"{protocol}_val"])
    overlap = set(train) & set(test)
    if overlap:
        raise DataError(f"{where}: {len(overlap)} samples are in both {protocol}_train and "
                        f"{protocol}_val, e.g. {sorted(overlap)[0]!r}")
    val = carve_val(train, protocol, val_fraction, seed)
    held = set(val)
    return SplitManifest(dataset, protocol, tuple(s for s in train if s not in held),
                         tuple(val), tuple(test))


def carve_val(train: list[str], protocol: str, fraction: float, seed: int) -> list[str]:
    """The validation ids carved from train, seeded and sorted.

    X-Sub holds out whole subjects (about `fraction` of them), read from the ids (NTU names, or
    `_sNN_` as in UTD-MHAD and MSR Action3D), so no performer is in both train and val. When only
    some ids name a subject, the carve stays by subject over those, and the others stay in train
    (their subject is unknown, so putting them in val could leak a training performer); one line
    says how many. When no id names a subject, or for other protocols, about `fraction` of the
    samples are held out."""
    from bench.data.splits import count_held_out, seeded_order

    subjects = _subjects(train) if protocol == "xsub" else {}
    if subjects:
        unnamed = [s for s in train if s not in subjects]
        if unnamed:
            log.warning("validation carve: %d of %d %s_train ids name no subject (e.g. %r); "
                        "whole subjects are held out among the others, these stay in train",
                        len(unnamed), len(train), protocol, unnamed[0])
        keys = sorted(set(subjects.values()))
        held = set(seeded_order(keys, seed)[:count_held_out(len(keys), fraction)])
        return sorted(s for s in subjects if subjects[s] in held)
    order = seeded_order(train, seed)
    return sorted(order[:count_held_out(len(train), fraction)])


def _subjects(ids: list[str]) -> dict[str, int]:
    """id -> subject for the ids that name one."""
    from bench.data.pose.kinect_v1 import subject_of
    from bench.data.ntu.names import parse_sample_name

    out = {}
    for sid in ids:
        try:
            out[sid] = parse_sample_name(sid).performer
        except BenchError:
            subject = subject_of(sid)
            if subject is not None:
                out[sid] = subject
    return out
