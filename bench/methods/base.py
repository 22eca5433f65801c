"""The Method interface every registered method implements."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.data.bundle import DataBundle, SkeletonSet
from bench.specs import Predictions


class Method:
    """fit() on a bundle's train (and val) split, predict() on any split.

    A method is built from a fully resolved config (defaults for the profile + overrides), so the
    config stored in the RunSpec is exactly what ran.
    """

    explains = False  # True for methods whose Predictions carry texts

    @classmethod
    def default_config(cls, profile: str) -> dict:
        """The method's full config for a profile (`smoke`, `cpu`, `paper`)."""
        raise NotImplementedError

    @classmethod
    def with_protocol(cls, config: dict, fit_on: str) -> dict:
        """The config under a suite's protocol (suites/protocol.toml): what the method fits on,
        "train" or "train+val". The default sets the config's `fit_on` field where it has one."""
        return {**config, "fit_on": fit_on} if "fit_on" in config else config

    # Config fields whose values check_config validates itself: the generic plan-time check
    # (plan.check_like_defaults: the type and sign of each default) skips them, e.g. a field
    # that may be null or whose numbers are not counts.
    OWN_CHECKS: frozenset = frozenset()

    @classmethod
    def check_config(cls, config: dict) -> None:
        """Raise BenchError (one line naming the field) if `config` cannot run. Called at plan time
        for every planned run, after --set and sweep values, so a bad value fails before anything
        runs. The default accepts; a method with limits on its fields overrides it."""

    def __init__(self, config: dict, *, profile: str, seed: int, workdir: Path, cache_dir: Path):
        self.config = config
        self.profile = profile
        self.seed = seed
        self.workdir = Path(workdir)  # private scratch dir of this run (inside runs/<run_id>/)
        self.cache_dir = Path(cache_dir)  # shared content-addressed cache (stage reuse)

    def fit(self, data: DataBundle) -> None:
        raise NotImplementedError

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """Extra scalar metrics of the run (e.g. codebook utilisation), merged into result.json."""
        return {}
