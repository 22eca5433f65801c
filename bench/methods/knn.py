"""1-nearest-neighbour on normalised, time-resampled joints: the floor every method must beat.

Each clip becomes one vector: bodies centred on the layout's centre joint of the first body's
first frame, scaled by that frame's RMS joint distance from it, resampled to a fixed number of
frames by linear interpolation, flattened. A test clip's score for class c is minus its distance
to the nearest training clip of class c, so every class is ranked (top-5 works). Pure numpy.
"""
from __future__ import annotations

import numpy as np

from bench.data.bundle import DataBundle, SkeletonSet
from bench.data.layouts import get_layout
from bench.errors import BenchError
from bench.methods.base import Method
from bench.specs import Predictions

METRICS = ("cosine", "euclidean")


class KNN(Method):
    """Nearest training clip per class; config: frames, persons, metric, include_val, chunk."""

    @classmethod
    def default_config(cls, profile: str) -> dict:
        if profile not in ("smoke", "cpu", "paper"):
            raise BenchError(f"KNN: unknown profile {profile!r}")
        # knn selects nothing on val: outside smoke it uses the whole official train split, as
        # the GCNs' cpu recipe (fit_on train+val) and LVLM-VAR do, so a table compares like with like
        return {"frames": 32, "persons": 2, "metric": "cosine",
                "include_val": profile != "smoke", "chunk": 512}

    def fit(self, data: DataBundle) -> None:
        if self.config["metric"] not in METRICS:
            raise BenchError(f"KNN: metric must be one of {METRICS}, not {self.config['metric']!r}")
        sets = [data.train] + ([data.val] if self.config["include_val"] and len(data.val) else [])
        feats = np.concatenate([self._features(s, data.layout) for s in sets])
        labels = np.concatenate([np.asarray(s.labels, dtype=np.int64) for s in sets])
        if len(labels) == 0:
            raise BenchError("KNN: the training split is empty")
        order = np.argsort(labels, kind="stable")  # group by class for np.minimum.reduceat
        self._train = _prepare(feats[order], self.config["metric"])
        self._classes, self._starts = np.unique(labels[order], return_index=True)
        self._num_classes = data.num_classes

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        if not hasattr(self, "_train"):
            raise BenchError("KNN.predict before fit")
        query = _prepare(self._features(split, data.layout), self.config["metric"])
        scores = np.empty((len(split), self._num_classes), dtype=np.float32)
        chunk = int(self.config["chunk"])
        for start in range(0, len(split), chunk):
            dist = _distances(query[start:start + chunk], self._train, self.config["metric"])
            nearest = np.minimum.reduceat(dist, self._starts, axis=1)
            block = np.full((len(dist), self._num_classes), np.nan, dtype=np.float32)
            block[:, self._classes] = -nearest
            # classes without training clips rank below every seen class
            floor = np.nanmin(block, axis=1, keepdims=True) - 1.0
            scores[start:start + chunk] = np.where(np.isnan(block), floor, block)
        return Predictions(list(split.sample_ids), np.asarray(split.labels), scores)

    def _features(self, subset: SkeletonSet, layout_name: str) -> np.ndarray:
        centre = get_layout(layout_name).center
        frames, persons = int(self.config["frames"]), int(self.config["persons"])
        out = np.zeros((len(subset), persons, frames, subset.keypoint.shape[3], 3), np.float32)
        for i in range(len(subset)):
            out[i] = normalised_clip(subset.keypoint[i], int(subset.num_frames[i]), centre,
                                     frames, persons)
        return out.reshape(len(subset), -1)


def normalised_clip(keypoint: np.ndarray, num_frames: int, centre: int, frames: int,
                    persons: int) -> np.ndarray:
    """(M, T, V, C) padded clip -> (persons, frames, V, 3): centred, scaled, resampled."""
    kp = np.asarray(keypoint[:persons, :max(num_frames, 1), :, :3], dtype=np.float64)
    present = np.abs(kp).sum(axis=-1, keepdims=True) > 0  # absent bodies/joints stay zero
    origin = kp[0, 0, centre].copy()
    kp = (kp - origin) * present
    scale = np.sqrt((kp[0, 0] ** 2).sum(axis=-1).mean())
    if scale > 1e-8:
        kp = kp / scale
    src = np.linspace(0.0, kp.shape[1] - 1, frames)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, kp.shape[1] - 1)
    w = (src - lo)[None, :, None, None]
    resampled = kp[:, lo] * (1 - w) + kp[:, hi] * w
    out = np.zeros((persons,) + resampled.shape[1:], dtype=np.float32)
    out[:resampled.shape[0]] = resampled
    return out


def _prepare(feats: np.ndarray, metric: str) -> np.ndarray:
    feats = feats.astype(np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        feats = feats / np.maximum(norms, 1e-8)
    return feats


def _distances(query: np.ndarray, train: np.ndarray, metric: str) -> np.ndarray:
    dots = query @ train.T
    if metric == "cosine":
        return 1.0 - dots
    sq = (query ** 2).sum(1)[:, None] + (train ** 2).sum(1)[None, :] - 2.0 * dots
    return np.sqrt(np.maximum(sq, 0.0))
