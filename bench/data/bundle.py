"""In-memory skeleton data handed to methods: one SkeletonSet per split, bundled with its manifest."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.specs import SplitManifest


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

    def __len__(self) -> int:
        return len(self.sample_ids)

    def subset(self, idx) -> "SkeletonSet":
        idx = np.asarray(idx)
        return SkeletonSet([self.sample_ids[i] for i in idx], self.keypoint[idx],
                           self.num_frames[idx], self.labels[idx],
                           None if self.descriptions is None
                           else [self.descriptions[i] for i in idx])


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
