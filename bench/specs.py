"""Core types that flow through the pipeline (see DESIGN.md, "Core types")."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.recipes import EVALUATE


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def file_sha256(path) -> str:
    """A file's sha256, as `sha256sum` prints it (read a MiB at a time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def short_hash(obj: Any, n: int = 12) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:n]


@dataclass(frozen=True)
class SplitManifest:
    """The exact sample ids of a split; every run records its hash so tables never mix splits."""

    dataset: str
    protocol: str
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    @property
    def sha256(self) -> str:
        payload = {"dataset": self.dataset, "protocol": self.protocol,
                   "train": list(self.train), "val": list(self.val), "test": list(self.test)}
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    @property
    def short(self) -> str:
        return self.sha256[:12]

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


DATA_KINDS = ("synthetic", "ntu-raw", "pickle", "kinect-v1")


@dataclass(frozen=True)
class DataRef:
    """Which data a run reads, built once from the command line (bench.data.datasets.choose_data).

    Everything but `location` is part of the run id: the same content at another path is the same
    run, and another layout, split or frame rate is another run."""

    kind: str  # one of DATA_KINDS
    digest: str = ""  # sha256 of the content (synthetic: the generator's parameter hash)
    layout: str = ""  # skeleton layout the arrays are read as
    split: str = ""  # protocol: trains on <split>_train, tests on <split>_val (pickles)
    fps: float = 0.0  # frames per second of the clips
    location: str = ""  # where the data is now (a file or folder); not part of the run id
    # `--limit N`: at most N test samples per class (0: all). It changes the split manifest's
    # test list, so the run id covers it through manifest_sha256, not here (ids stay as before).
    limit: int = 0
    # `--evaluate val`: the runs are scored on the split's validation part (which leaves
    # training: fit on train only, no selection on it) to choose settings without touching test.
    # The manifest's test list becomes the validation list, so the manifest hash covers it.
    evaluate: str = "test"

    def __post_init__(self):
        if self.kind not in DATA_KINDS:
            raise ValueError(f"DataRef kind {self.kind!r}: expected one of {', '.join(DATA_KINDS)}")
        if self.evaluate not in EVALUATE:
            raise ValueError(f"DataRef evaluate {self.evaluate!r}: expected one of "
                             f"{', '.join(EVALUATE)}")
        object.__setattr__(self, "fps", float(self.fps))  # 30 and 30.0 hash alike
        object.__setattr__(self, "limit", int(self.limit or 0))

    def identity(self) -> dict:
        """What the run id covers: all fields except the location, the limit and the evaluated
        part (the manifest hash covers those)."""
        d = asdict(self)
        del d["location"], d["limit"], d["evaluate"]
        return d

    @classmethod
    def from_any(cls, data: "DataRef | dict | str") -> "DataRef":
        """A DataRef, its dict form (spec.json), or the string older spec.json files hold."""
        if isinstance(data, DataRef):
            return data
        if isinstance(data, dict):
            return cls(**data)
        return cls.from_legacy(data)

    @classmethod
    def from_legacy(cls, tag: str) -> "DataRef":
        """`synthetic:<hash>` or the data's path: the `data` string of runs stored before DataRef
        (enough to report them; their digest, layout and fps were not recorded)."""
        if tag.startswith("synthetic:"):
            return cls("synthetic", digest=tag.partition(":")[2])
        return cls("pickle" if tag.endswith((".pkl", ".pickle")) else "ntu-raw", location=tag)


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's result; run_id is the hash of its canonical JSON
    (with the data's identity, not its location)."""

    suite: str
    method: str
    config: dict
    seed: int
    manifest_sha256: str
    profile: str
    data: DataRef  # a dict (spec.json) or an older string is turned into a DataRef

    def __post_init__(self):
        object.__setattr__(self, "data", DataRef.from_any(self.data))

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def run_id(self) -> str:
        return f"{self.method}-{short_hash({**self.to_dict(), 'data': self.data.identity()}, 16)}"

    @classmethod
    def from_dict(cls, d: dict) -> "RunSpec":
        return cls(**d)


@dataclass
class Predictions:
    """Per-sample outputs; metrics read only this, so any report can be re-scored offline."""

    sample_ids: list[str]
    labels: np.ndarray  # (N,) int
    scores: np.ndarray  # (N, C) float, higher = more likely
    texts: list[str] | None = None  # generated explanations, for methods that explain
    extra: dict[str, Any] = field(default_factory=dict)  # per-sample JSON-able extras (tokens, ...)
    # Run-level JSON-able facts about the explanations (train-derived control texts, per-class
    # train explanations for consistency prototypes, ...): stored as explanation_context.json.
    context: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        n = len(self.sample_ids)
        if self.labels.shape != (n,) or self.scores.ndim != 2 or self.scores.shape[0] != n:
            raise ValueError(f"Predictions shapes disagree: {n} ids, labels {self.labels.shape}, "
                             f"scores {self.scores.shape}")
        if self.texts is not None and len(self.texts) != n:
            raise ValueError(f"Predictions: {len(self.texts)} texts for {n} samples")


@dataclass
class RunResult:
    run_id: str
    spec: RunSpec
    status: str  # "done" | "failed"
    metrics: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    error: str | None = None
    # sha256 of predictions.npz, checked before a report reads it (None: no predictions, or a
    # run stored before this was recorded)
    predictions_sha256: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["spec"] = self.spec.to_dict()
        return d
