"""Skeleton data handed to methods: one SkeletonSet per split, bundled with its manifest. A
split's keypoints are rows of the prepared memory-mapped array (RowView), read when used."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.specs import SplitManifest


class RowView:
    """Rows `idx` of `base` (a memory map), read on access: a split of the prepared arrays
    without a copy of it in memory. Indexing reads the rows asked for; np.asarray(view) reads
    them all (what code that needs the whole split at once gets)."""

    def __init__(self, base: np.ndarray, idx):
        self.base, self.idx = base, np.asarray(idx, dtype=np.int64)

    @property
    def shape(self) -> tuple:
        return (len(self.idx),) + tuple(self.base.shape[1:])

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def ndim(self) -> int:
        return self.base.ndim

    def __len__(self) -> int:
        return len(self.idx)

    def rows(self, idx) -> "RowView":
        return RowView(self.base, self.idx[np.asarray(idx, dtype=np.int64)])

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if first is Ellipsis:
            return np.asarray(self)[key]
        rows = self.idx[first]
        out = self._read(rows)
        if not rest:
            return out
        return out[rest] if np.ndim(rows) == 0 else out[(slice(None),) + rest]

    def _read(self, rows) -> np.ndarray:
        """The rows, copied. From a memory map they are read from its file (pread), so the
        process never maps the pages: a pass over a large split adds nothing to its RSS."""
        source = file_source(self.base)
        if source is None:
            return np.array(self.base[rows])
        flat = np.atleast_1d(rows)
        out = read_rows(source, flat)
        return out if np.ndim(rows) else out[0]

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.base[self.idx])
        return out if dtype is None else out.astype(dtype, copy=False)


def file_source(base) -> dict | None:
    """Where the rows of a file-backed, C-ordered memory map lie: {file, offset, shape (of a
    row), dtype}, plain values a data-loader worker can read rows with; None for other arrays."""
    if not (isinstance(base, np.memmap) and base.filename and base.flags.c_contiguous):
        return None
    return {"file": str(base.filename), "offset": int(base.offset),
            "shape": [int(n) for n in base.shape[1:]], "dtype": np.dtype(base.dtype).str}


def read_rows(source: dict, rows) -> np.ndarray:
    """Rows of the array file_source described, read with pread (nothing mapped)."""
    rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
    out = np.empty((len(rows), *source["shape"]), dtype=np.dtype(source["dtype"]))
    size = out[0].nbytes if len(rows) else 0
    with open(source["file"], "rb", buffering=0) as f:
        for k, row in enumerate(rows):
            got = os.preadv(f.fileno(), [memoryview(out[k]).cast("B")],
                            source["offset"] + int(row) * size)
            if got != size:
                raise OSError(f"{source['file']}: short read of row {row}")
    return out


def shared_source(keypoints) -> dict | None:
    """The file_source of splits' keypoints when all are RowViews of the same memory map."""
    sources = [file_source(k.base) if isinstance(k, RowView) else None for k in keypoints]
    if not sources or sources[0] is None or any(s != sources[0] for s in sources):
        return None
    return sources[0]


def trim_clip(keypoint: np.ndarray, num_frames: int) -> np.ndarray:
    """A clip's (M, T, V, C) keypoints as float32 without the time padding and without the
    bodies that are absent throughout (at least one body is kept)."""
    kp = np.asarray(keypoint[:, :int(num_frames)], dtype=np.float32)
    present = np.abs(kp).reshape(kp.shape[0], -1).sum(axis=1) > 0
    present[0] = present[0] or not present.any()
    return np.ascontiguousarray(kp[present])


def take_rows(keypoint, idx):
    """Rows of a split's keypoints: a RowView stays a view, an array is indexed."""
    return keypoint.rows(idx) if isinstance(keypoint, RowView) else keypoint[idx]


@dataclass
class SkeletonSet:
    """Skeleton sequences of one split, zero-padded in time.

    keypoint: (N, M, T, V, C) float32, M persons (2), T = longest clip, V joints, C = 3 (x, y, z).
    num_frames: (N,) valid frames per sample; frames past it are zero.
    """

    sample_ids: list[str]
    keypoint: np.ndarray
    num_frames: np.ndarray
    labels: np.ndarray  # (N,) int64, 0-based class index
    descriptions: list[str] | None = None  # ground-truth motion descriptions (synthetic data)
    # per sample, the source annotation's other fields (pickles: img_shape, original_shape, ...)
    extras: list[dict] | None = None

    def __len__(self) -> int:
        return len(self.sample_ids)

    def subset(self, idx) -> "SkeletonSet":
        idx = np.asarray(idx)
        return SkeletonSet([self.sample_ids[i] for i in idx], take_rows(self.keypoint, idx),
                           self.num_frames[idx], self.labels[idx],
                           None if self.descriptions is None
                           else [self.descriptions[i] for i in idx],
                           None if self.extras is None else [self.extras[i] for i in idx])


@dataclass
class DataBundle:
    manifest: SplitManifest
    class_names: list[str]
    layout: str  # "ntu25" | "kinect20"
    fps: float
    train: SkeletonSet
    val: SkeletonSet
    test: SkeletonSet
    synthetic: bool = False
    root: Path | None = None  # the data source's folder (real NTU: where RGB videos are found)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def with_val_in_train(self) -> "DataBundle":
        """The bundle with val appended to train (and no val): for a final fit on the whole
        official train split by a method that selects nothing on the validation part."""
        a, b = self.train, self.val
        if not len(b):
            return self
        frames = max(a.keypoint.shape[2], b.keypoint.shape[2])
        persons = max(a.keypoint.shape[1], b.keypoint.shape[1])

        def padded(kp):
            pad = [(0, 0), (0, persons - kp.shape[1]), (0, frames - kp.shape[2]), (0, 0), (0, 0)]
            return np.pad(kp, pad)
        descriptions = (None if a.descriptions is None or b.descriptions is None
                        else a.descriptions + b.descriptions)
        extras = (None if a.extras is None and b.extras is None
                  else [e or {} for e in (a.extras or [None] * len(a))
                        + (b.extras or [None] * len(b))])
        if (isinstance(a.keypoint, RowView) and isinstance(b.keypoint, RowView)
                and a.keypoint.base is b.keypoint.base):  # rows of one prepared array
            keypoint = RowView(a.keypoint.base, np.concatenate([a.keypoint.idx, b.keypoint.idx]))
        else:
            keypoint = np.concatenate([padded(np.asarray(a.keypoint)),
                                       padded(np.asarray(b.keypoint))])
        train = SkeletonSet(a.sample_ids + b.sample_ids, keypoint,
                            np.concatenate([a.num_frames, b.num_frames]),
                            np.concatenate([a.labels, b.labels]), descriptions, extras)
        return dataclasses.replace(self, train=train, val=b.subset(np.arange(0)))
