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
TRAIN_BLOCK = 8192  # train rows per distance block: 512 x 8192 float32 is 16 MB


REGISTER = {"knn": {"class": "KNN", "tags": ["skeleton"]}}


class KNN(Method):
    """Nearest training clip per class; config: frames, persons, metric, include_val, chunk."""

    @classmethod
    def default_config(cls, profile: str) -> dict:
        from bench.recipes import PROFILES

        if profile not in PROFILES:
            raise BenchError(f"KNN: unknown profile {profile!r}; expected one of {PROFILES}")
        # knn selects nothing on val: outside smoke it uses the whole official train split, as
        # the GCNs' cpu recipe (fit_on train+val) and LVLM-VAR do, so a table compares like with like
        return {"frames": 32, "persons": 2, "metric": "cosine",
                "include_val": profile != "smoke", "chunk": 512}

    @classmethod
    def with_protocol(cls, config: dict, fit_on: str) -> dict:
        return {**config, "include_val": fit_on == "train+val"}

    def fit(self, data: DataBundle) -> None:
        if self.config["metric"] not in METRICS:
            raise BenchError(f"KNN: metric must be one of {METRICS}, not {self.config['metric']!r}")
        sets = [data.train] + ([data.val] if self.config["include_val"] and len(data.val) else [])
        labels = np.concatenate([np.asarray(s.labels, dtype=np.int64) for s in sets])
        if len(labels) == 0:
            raise BenchError("KNN: the training split is empty")
        order = np.argsort(labels, kind="stable")  # group by class for np.minimum.reduceat
        # Each clip's vector is written straight into its sorted row: no concatenated copy.
        rows = np.empty(len(labels), dtype=np.int64)
        rows[order] = np.arange(len(labels))
        width = int(self.config["persons"]) * int(self.config["frames"]) * \
            data.train.keypoint.shape[3] * 3
        out, first = np.zeros((len(labels), width), np.float32), 0
        for s in sets:
            out = self._features(s, data.layout, out, rows[first:first + len(s)])
            first += len(s)
        self._train = _prepare(out, self.config["metric"])
        self._classes, self._starts = np.unique(labels[order], return_index=True)
        self._num_classes = data.num_classes

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        if not hasattr(self, "_train"):
            raise BenchError("KNN.predict before fit")
        query = _prepare(self._features(split, data.layout), self.config["metric"])
        scores = np.empty((len(split), self._num_classes), dtype=np.float32)
        chunk = int(self.config["chunk"])
        for start in range(0, len(split), chunk):
            nearest = nearest_per_class(query[start:start + chunk], self._train, self._starts,
                                        self.config["metric"])
            block = np.full((len(nearest), self._num_classes), np.nan, dtype=np.float32)
            block[:, self._classes] = -nearest
            # classes without training clips rank below every seen class
            floor = np.nanmin(block, axis=1, keepdims=True) - 1.0
            scores[start:start + chunk] = np.where(np.isnan(block), floor, block)
        return Predictions(list(split.sample_ids), np.asarray(split.labels), scores)

    def _features(self, subset: SkeletonSet, layout_name: str, out: np.ndarray | None = None,
                  rows: np.ndarray | None = None) -> np.ndarray:
        """(N, D) float32 vectors of a split; with `out` and `rows`, written into out[rows]."""
        centre = get_layout(layout_name).center
        frames, persons = int(self.config["frames"]), int(self.config["persons"])
        if out is None:
            width = persons * frames * subset.keypoint.shape[3] * 3
            out, rows = np.zeros((len(subset), width), np.float32), np.arange(len(subset))
        for i in range(len(subset)):
            out[rows[i]] = normalised_clip(subset.keypoint[i], int(subset.num_frames[i]), centre,
                                           frames, persons).ravel()
        return out


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
    feats = np.asarray(feats, dtype=np.float32)  # no copy when already float32
    if metric == "cosine":
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        feats /= np.maximum(norms, 1e-8)  # in place: the train matrix is the big one
    return feats


def nearest_per_class(query: np.ndarray, train: np.ndarray, starts: np.ndarray, metric: str,
                      block: int = TRAIN_BLOCK) -> np.ndarray:
    """(q, classes present): each query's distance to the nearest train row of each class
    (train rows sorted by class; class k's rows start at starts[k]), TRAIN_BLOCK rows at a time."""
    bounds = np.append(starts, len(train))
    best = np.full((len(query), len(starts)), np.inf, dtype=np.float32)
    for a in range(0, len(train), block):
        b = min(a + block, len(train))
        dist = _distances(query, train[a:b], metric)
        # the classes whose rows meet [a, b), and where each starts inside the block
        first = int(np.searchsorted(bounds, a, side="right")) - 1
        last = int(np.searchsorted(bounds, b, side="left"))
        local = np.maximum(starts[first:last], a) - a
        part = np.minimum.reduceat(dist, local, axis=1)
        best[:, first:last] = np.minimum(best[:, first:last], part)
    return best


def _distances(query: np.ndarray, train: np.ndarray, metric: str) -> np.ndarray:
    dots = query @ train.T
    if metric == "cosine":
        return 1.0 - dots
    sq = (query ** 2).sum(1)[:, None] + (train ** 2).sum(1)[None, :] - 2.0 * dots
    return np.sqrt(np.maximum(sq, 0.0))
