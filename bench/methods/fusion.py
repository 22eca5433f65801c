"""Multi-stream fusion of GCN class scores, aligned by sample id (never by position).

The 2s-AGCN / CTR-GCN / PYSKL practice: train one model per input stream (joint, bone,
joint-motion, bone-motion), then add their test scores with weights 2:2:1:1 (MMAction2's
`report_accuracy.py`, PYSKL's 4-stream results). Score files from different runs may list samples
in different orders (or a different subset): `fuse` matches rows by sample id and refuses sets of
ids that differ, naming what is missing.

`<gcn>-fusion` is a method of its own: it trains the GCN once per stream (each in its own
subfolder of the run's workdir, same seed and profile) and predicts the weighted sum.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Sequence

import numpy as np

from bench.data.bundle import DataBundle, SkeletonSet
from bench.errors import BenchError
from bench.methods.base import Method
from bench.specs import Predictions

STREAMS = ("joint", "bone", "joint-motion", "bone-motion")
DEFAULT_WEIGHTS = (2.0, 2.0, 1.0, 1.0)


def fuse(streams: Sequence[Predictions], weights: Sequence[float],
         names: Sequence[str] | None = None) -> Predictions:
    """Weighted sum of the streams' scores, rows matched by sample id, in the first's order."""
    names = list(names or [f"stream {i}" for i in range(len(streams))])
    if not streams or len(weights) != len(streams) or len(names) != len(streams):
        raise BenchError(f"fusion: {len(streams)} streams, {len(weights)} weights and "
                         f"{len(names)} names; expected one weight and name per stream (>= 1)")
    first = streams[0]
    ids = list(first.sample_ids)
    fused = np.zeros(first.scores.shape, dtype=np.float64)
    for pred, weight, name in zip(streams, weights, names):
        order = _alignment(ids, list(pred.sample_ids), name, names[0])
        if pred.scores.shape != first.scores.shape:
            raise BenchError(f"fusion: {name} has scores of shape {pred.scores.shape}; expected "
                             f"{first.scores.shape} like {names[0]}")
        if not np.array_equal(pred.labels[order], first.labels):
            bad = int(np.flatnonzero(pred.labels[order] != first.labels)[0])
            raise BenchError(f"fusion: {name} labels sample {ids[bad]} "
                             f"{int(pred.labels[order][bad])}, {names[0]} {int(first.labels[bad])}")
        fused += float(weight) * pred.scores[order]
    return Predictions(ids, first.labels.copy(), fused.astype(np.float32))


def _alignment(ids: list[str], other: list[str], name: str, ref: str) -> np.ndarray:
    """Row index in `other` of each id in `ids`; errors for duplicate, missing or extra ids."""
    for label, listing in ((ref, ids), (name, other)):
        if len(set(listing)) != len(listing):
            dup = next(s for s in listing if listing.count(s) > 1)
            raise BenchError(f"fusion: {label} lists sample {dup} more than once")
    index = {sid: i for i, sid in enumerate(other)}
    missing = [s for s in ids if s not in index]
    extra = sorted(set(other) - set(ids))
    if missing or extra:
        raise BenchError(f"fusion: the sample ids of {name} do not match {ref}: "
                         f"{len(missing)} missing (e.g. {missing[:3]}), "
                         f"{len(extra)} extra (e.g. {extra[:3]})")
    return np.array([index[s] for s in ids], dtype=np.int64)


def load_scores(path: str | Path) -> Predictions:
    """A run's predictions.npz (sample_ids, labels, scores), checked, as Predictions."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"{path}: score file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("sample_ids", "labels", "scores") if key in npz}
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path}: not a readable .npz score file ({exc})") from None
    for key in ("sample_ids", "labels", "scores"):
        if key not in arrays:
            raise BenchError(f"{path}: field {key!r} missing; expected sample_ids, labels, scores")
    n = len(arrays["sample_ids"])
    if arrays["scores"].ndim != 2 or len(arrays["scores"]) != n or len(arrays["labels"]) != n:
        raise BenchError(f"{path}: field scores has shape {arrays['scores'].shape} and labels "
                         f"{arrays['labels'].shape}; expected (N, C) and (N,) with N={n}")
    return Predictions([str(s) for s in arrays["sample_ids"]], arrays["labels"], arrays["scores"])


def fuse_files(paths: Sequence[str | Path], weights: Sequence[float] = DEFAULT_WEIGHTS
               ) -> Predictions:
    """Fuse stored score files (e.g. runs/<id>/predictions.npz of the four stream runs)."""
    return fuse([load_scores(p) for p in paths], weights, [str(p) for p in paths])


class StreamFusion(Method):
    """Trains `GCN` once per stream and predicts the weighted sum of the streams' scores."""

    GCN = ""  # the registered GCN method name, set by each subclass

    @classmethod
    def default_config(cls, profile: str) -> dict:
        from bench.methods import METHODS

        base = METHODS.get(cls.GCN).default_config(profile)
        base.pop("stream", None)
        return {"gcn": cls.GCN, "streams": list(STREAMS), "weights": list(DEFAULT_WEIGHTS),
                "gcn_config": base}

    def _streams(self) -> list[Method]:
        from bench.methods import METHODS

        streams, weights = list(self.config["streams"]), list(self.config["weights"])
        unknown = [s for s in streams if s not in STREAMS]
        distinct = len(set(streams)) == len(streams)
        if unknown or not streams or len(weights) != len(streams) or not distinct:
            raise BenchError(f"{self.config['gcn']}-fusion: streams {streams} with weights "
                             f"{weights}; expected distinct streams from {list(STREAMS)}, "
                             f"one weight each")
        gcn = METHODS.get(self.config["gcn"])
        return [gcn({**copy.deepcopy(self.config["gcn_config"]), "stream": stream},
                    profile=self.profile, seed=self.seed, workdir=self.workdir / stream,
                    cache_dir=self.cache_dir) for stream in streams]

    def fit(self, data: DataBundle) -> None:
        for model in self._streams():
            model.workdir.mkdir(parents=True, exist_ok=True)
            model.fit(data)

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        models = self._streams()
        preds = [model.predict(split, data) for model in models]
        self._stream_top1 = {f"top1_{model.config['stream']}":
                             float((p.scores.argmax(1) == p.labels).mean()) if len(p.labels)
                             else 0.0 for model, p in zip(models, preds)}
        return fuse(preds, self.config["weights"], self.config["streams"])

    def diagnostics(self) -> dict:
        """Each stream's own top-1 on the last predicted split (what the fusion adds)."""
        return dict(getattr(self, "_stream_top1", {}))


def _fusion_of(gcn: str, title: str) -> type:
    return type(f"{title}Fusion", (StreamFusion,), {
        "GCN": gcn, "__doc__": f"{title}, 4-stream fusion (joint, bone, motions; 2:2:1:1)."})


REGISTER = {  # bench/methods/__init__.py reads this without importing the module
    "stgcn-fusion": {"class": "STGCNFusion", "tags": ["skeleton", "mmaction"]},
    "aagcn-fusion": {"class": "AAGCNFusion", "tags": ["skeleton", "mmaction"]},
    "stgcnpp-fusion": {"class": "STGCNPPFusion", "tags": ["skeleton", "mmaction"]},
    "ctrgcn-fusion": {"class": "CTRGCNFusion", "tags": ["skeleton", "mmaction"]},
    "msg3d-fusion": {"class": "MSG3DFusion", "tags": ["skeleton", "mmaction"]},
}
STGCNFusion = _fusion_of("stgcn", "STGCN")
AAGCNFusion = _fusion_of("aagcn", "AAGCN")
STGCNPPFusion = _fusion_of("stgcnpp", "STGCNPP")
CTRGCNFusion = _fusion_of("ctrgcn", "CTRGCN")
MSG3DFusion = _fusion_of("msg3d", "MSG3D")
