"""Accuracy tables from stored predictions: bootstrap CIs, mean ± std over seeds, McNemar tests
against LVLM-VAR."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.errors import BenchError
from bench.metrics.registry import CLASSIFICATION
from bench.reporting import tables
from bench.specs import Predictions

REFERENCE_METHOD = "lvlm_var"
METRIC_HEADERS = tuple((m.key, m.header) for m in CLASSIFICATION)
MCNEMAR_HEADER = "McNemar vs lvlm_var"


@dataclass
class RunGroup:
    """The finished runs of one method and profile (one per seed), predictions aligned by sample."""

    method: str
    profile: str
    results: list[dict]  # sorted by seed
    predictions: list[Predictions]
    failed: int = 0
    estimates: dict = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        return [r["spec"]["seed"] for r in self.results]

    def correct(self, i: int = 0) -> np.ndarray:
        p = self.predictions[i]
        return np.argmax(p.scores, axis=1) == p.labels


def check_one_manifest(results: list[dict]) -> str:
    hashes = {r["spec"]["manifest_sha256"] for r in results}
    if len(hashes) > 1:
        raise BenchError("refusing to put runs from different split manifests in one table: "
                         + ", ".join(sorted(h[:12] for h in hashes)))
    return hashes.pop() if hashes else ""


def _aligned(p: Predictions, order: list[str], run_id: str) -> Predictions:
    """p reordered to `order` (sample ids); a run over other samples is refused."""
    if p.sample_ids == order:
        return p
    pos = {s: i for i, s in enumerate(p.sample_ids)}
    if set(pos) != set(order):
        raise BenchError(f"run {run_id}: its test samples differ from the other runs' on the same "
                         f"manifest ({len(pos)} vs {len(order)} ids); re-run it")
    idx = np.array([pos[s] for s in order])
    extra = {k: [v[i] for i in idx] for k, v in p.extra.items()}
    texts = None if p.texts is None else [p.texts[i] for i in idx]
    return Predictions(list(order), p.labels[idx], p.scores[idx], texts, extra, p.context)


def load_groups(store, results: list[dict], resamples: int, seed: int) -> list[RunGroup]:
    """One group per (method, profile), with bootstrap estimates of every accuracy metric."""
    from bench.metrics.statistics import bootstrap

    check_one_manifest(results)
    keyed: dict[tuple, list[dict]] = {}
    for r in results:
        keyed.setdefault((r["spec"]["method"], r["spec"]["profile"]), []).append(r)
    groups, order = [], None
    for (method, profile), runs in sorted(keyed.items()):
        done = sorted((r for r in runs if r["status"] == "done"), key=lambda r: r["spec"]["seed"])
        preds = []
        for r in done:
            p = store.load_predictions(r["run_id"])
            order = order or p.sample_ids
            preds.append(_aligned(p, order, r["run_id"]))
        g = RunGroup(method, profile, done, preds, failed=len(runs) - len(done))
        if preds:
            g.estimates = bootstrap([(p.labels, p.scores) for p in preds], resamples, seed)
        groups.append(g)
    return groups


def _reference(groups: list[RunGroup], profile: str) -> RunGroup | None:
    # like with like: the reference run of the same profile only (another profile's run saw
    # another recipe, so the paired test would compare recipes, not methods)
    same = [g for g in groups if g.method == REFERENCE_METHOD and g.predictions
            and g.profile == profile]
    return same[0] if same else None


def mcnemar_cell(g: RunGroup, groups: list[RunGroup]) -> tuple[str, object]:
    """The paired test against LVLM-VAR of the same profile ("-" when that was not run), on the
    lowest seed both have (else each one's lowest seed)."""
    from bench.metrics.statistics import mcnemar, stars

    ref = _reference(groups, g.profile)
    if ref is None or not g.predictions:
        return "-", None
    if ref is g:
        return "(reference)", None
    common = sorted(set(g.seeds) & set(ref.seeds))
    i, j = (g.seeds.index(common[0]), ref.seeds.index(common[0])) if common else (0, 0)
    test = mcnemar(g.correct(i), ref.correct(j))
    kind = "exact" if test.exact else "chi2"
    return (f"{test.only_a}/{test.only_b}, p={test.p_value:.3g}{stars(test.p_value)} ({kind})",
            test)


def accuracy_rows(groups: list[RunGroup]) -> list[list[str]]:
    rows = []
    for g in groups:
        if not g.predictions:
            rows.append([g.method, g.profile] + ["failed"] + ["-"] * len(METRIC_HEADERS)
                        + [f"0/{g.failed}"])
            continue
        cells = [tables.fmt_estimate(g.estimates[m.key], m.scale, m.digits)
                 for m in CLASSIFICATION]
        seeds = f"{len(g.results)}" + (f" (+{g.failed} failed)" if g.failed else "")
        rows.append([g.method, g.profile] + cells + [mcnemar_cell(g, groups)[0], seeds])
    return rows


ACCURACY_HEADERS = (["Method", "Profile"] + [h for _, h in METRIC_HEADERS]
                    + [MCNEMAR_HEADER, "Seeds"])


def per_seed_rows(groups: list[RunGroup]) -> list[list[str]]:
    """Each seed's full-sample metrics (for groups with more than one seed)."""
    from bench.metrics.statistics import full_metrics

    rows = []
    for g in groups:
        if len(g.predictions) < 2:
            continue
        for s, p in zip(g.seeds, g.predictions):
            m = full_metrics(p.labels, p.scores)
            rows.append([g.method, g.profile, str(s)] + [c.fmt(m[c.key]) for c in CLASSIFICATION])
    return rows


PER_SEED_HEADERS = ["Method", "Profile", "Seed"] + [h for _, h in METRIC_HEADERS]
