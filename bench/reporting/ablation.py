"""Ablation reports: metrics against one knob with CI bands, or a heatmap over two knobs.

The axes are read from the stored specs: the config keys whose values differ between the runs
(the ablation's declared key(s) first). Seeds of the same grid point are pooled (mean over seeds,
bootstrap CI of the seed mean).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.metrics.registry import CLASSIFICATION, ablation_keys, fmt, header_of
from bench.metrics.statistics import DEFAULT_RESAMPLES, DEFAULT_SEED, bootstrap
from bench.paths import safe_folder_name
from bench.reporting import accuracy as A
from bench.reporting import tables
from bench.reporting.document import Document
from bench.reporting.sections import (appendices, diagnostics_section, split_note, title_of,
                                      with_note, write_records)
from bench.store import Store

# The plotted metrics: the registry's ablation classification metrics, without "(%)".
CURVE_METRICS = tuple((m.key, m.header.replace(" (%)", "")) for m in CLASSIFICATION
                      if m.in_ablation)


def ablation_axes(results: list[dict], declared: list[str]) -> list[str]:
    """Config keys that vary across the runs, declared keys first (the declared ones if none
    vary)."""
    flat = [tables.flatten(r["spec"]["config"]) for r in results]
    keys = sorted({k for f in flat for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    ordered = [k for k in declared if k in varying] + [k for k in varying if k not in declared]
    return ordered or declared


def _sort_key(v):
    return (isinstance(v, str), v if not isinstance(v, str) else str(v))


def ablation_report(store: Store, ablation, suite, results: list[dict], synthetic: bool,
                    resamples: int = DEFAULT_RESAMPLES, boot_seed: int = DEFAULT_SEED) -> Path:
    from bench.metrics.registry import score_run

    if not results:
        raise BenchError(f"no finished runs for ablation {ablation.name} under {store.out}")
    manifest = A.check_one_manifest(results)
    declared = list(getattr(ablation, "config_keys", None) or [ablation.config_key])
    axes = ablation_axes(results, declared)
    points: dict[tuple, list[dict]] = {}
    for r in results:
        flat = tables.flatten(r["spec"]["config"])
        points.setdefault(tuple(flat.get(a) for a in axes), []).append(r)
    keys = sorted(points, key=lambda t: tuple(_sort_key(v) for v in t))
    out = store.out / "reports" / safe_folder_name(ablation.name)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    rows, estimates = [], {}
    for key in keys:
        done = sorted((r for r in points[key] if r["status"] == "done"),
                      key=lambda r: r["spec"]["seed"])
        preds = [store.load_predictions(r["run_id"]) for r in done]
        est = bootstrap([(p.labels, p.scores) for p in preds], resamples, boot_seed) if preds \
            else None
        estimates[key] = est
        scored = [score_run(p) for p in preds]  # the cheap metrics, re-scored
        rows.append([str(v) for v in key]
                    + [tables.fmt_estimate(est[m.key], m.scale, m.digits) if est else "-"
                       for m in CLASSIFICATION]
                    + [fmt(k, _mean(q.get(k) for q in scored)) for k in ablation_keys()]
                    + [f"{len(done)}/{len(points[key])}"])
    headers = (axes + [m.header for m in CLASSIFICATION] + [header_of(k) for k in ablation_keys()]
               + ["Runs"])
    note = split_note(results)
    doc = Document(title_of("Ablation", f"{ablation.name} on {suite.name}", synthetic),
                   table_note=note)
    doc.para(f"{ablation.description}; method `{ablation.method}`, split manifest "
             f"{with_note(f'`{manifest[:12]}`', note)}. Value [bootstrap 95% CI] in %, mean ± "
             f"std over seeds where several ran ({resamples} resamples). Measured here"
             + (" on synthetic data." if synthetic else "."))
    doc.table(headers, rows, doc.title)
    _figures(doc, axes, keys, estimates, out, doc.title)
    diagnostics_section(doc, sorted(results, key=lambda r: str(tables.flatten(r["spec"]["config"])
                                                                 .get(axes[0]))))
    axis_notes = [(a, f"the value of {ablation.method}'s config field {a} at the row's grid "
                      "point (a knob this ablation varies).") for a in axes]
    appendices(doc, store, results, resamples, boot_seed, extra=axis_notes)
    write_records(store, results, out, resamples, boot_seed)
    return doc.write(out)


def _figures(doc: Document, axes: list[str], keys: list[tuple], estimates: dict, out: Path,
             title: str) -> None:
    from bench.reporting.figures import ablation_curve, ablation_heatmap

    def point(key, metric):
        est = estimates.get(key)
        return None if est is None else (est[metric].value, est[metric].low, est[metric].high)

    if len(axes) == 1:
        values = [k[0] for k in keys]
        series = {name: [point(k, m) for k in keys] for m, name in CURVE_METRICS}
        ablation_curve(axes[0], values, series, title, out / "figures" / "ablation")
        doc.figure("ablation", f"Metrics against {axes[0]} (bands: bootstrap 95% CI)",
                   width="0.7\\linewidth")
    elif len(axes) == 2:
        rows = sorted({k[0] for k in keys}, key=_sort_key)
        cols = sorted({k[1] for k in keys}, key=_sort_key)
        grid = np.full((len(rows), len(cols)), np.nan)
        for k in keys:
            p = point(k, "top1")
            if p is not None:
                grid[rows.index(k[0]), cols.index(k[1])] = p[0]
        ablation_heatmap((axes[0], axes[1]), rows, cols, grid, title,
                         out / "figures" / "ablation_heatmap")
        doc.figure("ablation_heatmap", f"Top-1 (%) over {axes[0]} x {axes[1]}",
                   width="0.7\\linewidth")
    else:
        doc.para(f"{len(axes)} varying config keys ({', '.join(axes)}): table only, no figure.")


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return float(np.mean(vals)) if vals else None
