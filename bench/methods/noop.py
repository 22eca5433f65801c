"""A method that does (almost) nothing: the harness's own test and benchmark subject.

It sleeps `sleep_s` in `steps` reported steps, optionally builds a cached "stage" (so sweeps can
show stage-cache hits without training anything), and predicts seeded random scores. Setting
$BENCH_NOOP_FAIL to "all" or to comma-separated seeds makes those runs raise: failure handling
and --retry-failed are tested with it.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

from bench import progress
from bench.data.bundle import DataBundle, SkeletonSet
from bench.methods.base import Method
from bench.specs import Predictions, short_hash
from bench.store import file_lock


# does nothing (sleeps, reports steps): tests and benchmarks of the sweep harness itself
REGISTER = {"noop": {"class": "Noop", "tags": ["harness"]}}


class Noop(Method):
    uses_torch = False  # the runner need not import (and seed) torch: a run costs ~0.5 s

    @classmethod
    def default_config(cls, profile: str) -> dict:
        return {"sleep_s": 0.0, "steps": 1, "tag": 0, "stage": "", "stage_s": 0.0}

    def fit(self, data: DataBundle) -> None:
        failing = os.environ.get("BENCH_NOOP_FAIL", "")
        if failing == "all" or str(self.seed) in failing.split(","):
            raise RuntimeError(f"injected failure for seed {self.seed} (BENCH_NOOP_FAIL)")
        self.stage_hit = self._stage(data) if self.config["stage"] else None
        steps = max(1, int(self.config["steps"]))
        for i in range(steps):
            time.sleep(float(self.config["sleep_s"]) / steps)
            progress.step(i + 1, steps, "sleep")
        self.num_classes = data.num_classes

    def _stage(self, data: DataBundle) -> bool:
        """A shared stage keyed by (train ids, stage name, seed): built once, then reused."""
        key = short_hash({"train": list(data.train.sample_ids), "stage": self.config["stage"],
                          "seed": self.seed}, 16)
        target = self.cache_dir / "noop-stage" / f"{key}.json"
        with file_lock(target.with_suffix(".lock")):
            if target.exists():
                return True
            time.sleep(float(self.config["stage_s"]))
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps({"built_by": os.getpid()}))
            os.replace(tmp, target)
            return False

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        rng = np.random.default_rng(self.seed)
        scores = rng.random((len(split), self.num_classes)).astype(np.float32)
        return Predictions(list(split.sample_ids), np.asarray(split.labels), scores)

    def diagnostics(self) -> dict:
        return {} if self.stage_hit is None else {"noop_stage_cache_hit": float(self.stage_hit)}
