"""Uncertainty and significance for classification results: bootstrap CIs, McNemar, seed spread.

Bootstrap: test samples are resampled with replacement; resample b draws its n indices as
`rng.integers(0, n, n)`, one call per resample in order, from `numpy.random.default_rng(seed)`.
Every resample's metric is computed on that multiset; with several runs of the same method (seeds)
on the same test samples, each resample uses the same indices for every run and the metric is the
mean over runs. The 95% CI is the 2.5th and 97.5th percentile (numpy's linear interpolation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
_CHUNK = 50  # resamples per weight matrix: bounds memory at ~60k test samples


@dataclass(frozen=True)
class Estimate:
    value: float  # mean over runs of the full-sample metric
    low: float  # bootstrap 95% CI
    high: float
    std: float | None  # std over runs (ddof=1), None for a single run
    runs: int


def full_metrics(labels: np.ndarray, scores: np.ndarray) -> dict:
    """Every classification metric of the registry for one run (fractions)."""
    from bench.metrics.classification import RunCounts
    from bench.metrics.registry import CLASSIFICATION

    counts = RunCounts(labels, scores)
    return {m.key: float(m.from_counts(counts, counts.full())[0]) for m in CLASSIFICATION}


def bootstrap(runs: list[tuple[np.ndarray, np.ndarray]], resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED) -> dict[str, Estimate]:
    """Estimates with bootstrap 95% CIs for runs [(labels, scores)] over the same test samples."""
    n = len(runs[0][0])
    if any(len(labels) != n for labels, _ in runs):
        raise ValueError("bootstrap: runs have different numbers of test samples")
    from bench.metrics.classification import RunCounts
    from bench.metrics.registry import CLASSIFICATION

    counts = [RunCounts(labels, scores) for labels, scores in runs]
    full = [{m.key: m.from_counts(c, c.full()) for m in CLASSIFICATION} for c in counts]
    rng = np.random.default_rng(seed)
    draws: dict[str, list] = {m.key: [] for m in CLASSIFICATION}
    for start in range(0, resamples, _CHUNK):
        rows = min(_CHUNK, resamples - start)
        w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                      for _ in range(rows)]).astype(np.float32)
        for m in CLASSIFICATION:
            draws[m.key].append(np.mean([m.from_counts(c, w) for c in counts], axis=0))
    out = {}
    for k in draws:
        values = np.concatenate(draws[k]).astype(np.float64)
        low, high = np.percentile(values, [2.5, 97.5])
        point = [float(m[k][0]) for m in full]
        std = float(np.std(point, ddof=1)) if len(point) > 1 else None
        out[k] = Estimate(float(np.mean(point)), float(low), float(high), std, len(point))
    return out


@dataclass(frozen=True)
class McNemar:
    only_a: int  # samples run A gets right and run B wrong
    only_b: int
    p_value: float
    exact: bool  # exact binomial test (few discordant pairs), else chi-squared with continuity


EXACT_BELOW = 25  # discordant pairs under which the exact binomial test is used


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """Paired McNemar test of two classifiers on the same samples (boolean correctness)."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    if n == 0:
        return McNemar(only_a, only_b, 1.0, True)
    if n < EXACT_BELOW:
        k = min(only_a, only_b)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
        return McNemar(only_a, only_b, min(1.0, 2 * tail), True)
    chi2 = (abs(only_a - only_b) - 1) ** 2 / n
    return McNemar(only_a, only_b, math.erfc(math.sqrt(chi2 / 2)), False)


def stars(p: float) -> str:
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""
