"""Results as data: one record per run, written beside each report as results.json and results.csv.

results.json is a JSON list with one object per run (schema version 1):

  schema_version   1
  run_id           the run's id (its folder under <out>/runs/)
  suite, method, profile, seed, status ("done" | "failed"), error (first line, failed runs)
  config_hash      short sha256 (12 hex) of the canonical JSON of the run's method config
  config           the method config itself (nested, as the run used it)
  manifest_sha256  sha256 of the split manifest (train/val/test sample ids) the run used
  data_kind        synthetic | ntu-raw | pickle | kinect-v1
  limit            test samples per class (`--limit N`), or null for the whole test split
  evaluate         "test", or "val" for runs scored on the validation part (`--evaluate val`)
  metrics          every metric result.json stores, {key: value}; classification metrics
                   (top1, top5, mean_class_acc, macro_f1) are fractions in [0, 1]; num_test,
                   and (runs from this version on) num_train, num_val: the split's sizes
  ci95             for the classification metrics, {key: {"low", "high"}}: bootstrap 95%
                   percentile CI of this run alone (same scale as metrics; see
                   bench/metrics/statistics.py), with bootstrap {"resamples", "seed"}
  timings          seconds per stage (data_s, fit_s, predict_s, ...)
  code_version     git commit of bench that ran it (versions.git), or null
  versions         python, machine, device and package versions the run recorded (bench,
                   numpy, torch, ...), and (runs from this version on) date: the UTC time the
                   run finished, ISO 8601

results.csv holds the same records, one row per run: the scalar fields, then one column per
nested value named by its path (`metrics.top1`, `ci95.top1.low`, `timings.fit_s`,
`versions.torch`); of the config, only the keys whose values differ between the rows
(`config.<dotted key>`, e.g. an ablation's axis), the rest being named by config_hash.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from bench.metrics.statistics import DEFAULT_RESAMPLES, DEFAULT_SEED
from bench.reporting import tables
from bench.specs import DataRef, short_hash

SCHEMA_VERSION = 1
SCALARS = ("schema_version", "run_id", "suite", "method", "profile", "seed", "status", "error",
           "config_hash", "manifest_sha256", "data_kind", "limit", "evaluate", "code_version")
NESTED = ("metrics", "ci95", "bootstrap", "timings", "versions")


def run_record(result: dict, estimates: dict | None, resamples: int = DEFAULT_RESAMPLES,
               boot_seed: int = DEFAULT_SEED) -> dict:
    """One run's record from its stored result (a dict of result.json) and, for a finished run,
    its bootstrap estimates {metric key: Estimate}."""
    spec = result["spec"]
    data = DataRef.from_any(spec["data"])
    versions = result.get("versions") or {}
    error = (result.get("error") or "").strip().splitlines()[:1]
    record = {
        "schema_version": SCHEMA_VERSION, "run_id": result["run_id"], "suite": spec["suite"],
        "method": spec["method"], "profile": spec["profile"], "seed": spec["seed"],
        "status": result["status"], "error": error[0] if error else None,
        "config_hash": short_hash(spec["config"]), "config": spec["config"],
        "manifest_sha256": spec["manifest_sha256"], "data_kind": data.kind,
        "limit": data.limit or None, "evaluate": data.evaluate,
        "metrics": dict(result.get("metrics") or {}),
        "ci95": {k: {"low": e.low, "high": e.high} for k, e in (estimates or {}).items()},
        "bootstrap": {"resamples": resamples, "seed": boot_seed} if estimates else {},
        "timings": dict(result.get("timings") or {}),
        "code_version": versions.get("git"), "versions": dict(versions),
    }
    return record


def run_estimates(predictions, resamples: int = DEFAULT_RESAMPLES,
                  boot_seed: int = DEFAULT_SEED) -> dict:
    """The bootstrap estimates of one run alone (its CI, not the CI of a seed mean)."""
    from bench.metrics.statistics import bootstrap

    return bootstrap([(predictions.labels, predictions.scores)], resamples, boot_seed)


def records_from_store(store, results: list[dict], resamples: int = DEFAULT_RESAMPLES,
                       boot_seed: int = DEFAULT_SEED) -> list[dict]:
    """Records of `results` (result.json dicts), sorted by method, profile, seed, run id; each
    finished run's CI from its stored predictions (the same whether a report or load_results
    asks)."""
    records = []
    for r in sorted(results, key=_order):
        estimates = None
        if r["status"] == "done":
            estimates = run_estimates(store.load_predictions(r["run_id"]), resamples, boot_seed)
        records.append(run_record(r, estimates, resamples, boot_seed))
    return records


def _order(r: dict) -> tuple:
    s = r["spec"]
    return (s["method"], s["profile"], s["seed"], r["run_id"])


def flat_row(record: dict, config_keys: list[str]) -> dict:
    """One CSV row: scalars, nested values under their dotted path, the varying config keys."""

    row = {k: record.get(k) for k in SCALARS}
    for part in NESTED:
        row.update(tables.flatten(record.get(part) or {}, f"{part}."))
    config = tables.flatten(record.get("config") or {})
    row.update({f"config.{k}": config.get(k) for k in config_keys})
    return row


def varying_config_keys(records: list[dict]) -> list[str]:

    flat = [tables.flatten(r.get("config") or {}) for r in records]
    keys = sorted({k for f in flat for k in f})
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str)
                                    for f in flat}) > 1]


def csv_columns(rows: list[dict]) -> list[str]:
    """The scalars first, then every other column in first-seen order."""
    columns = list(SCALARS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    return columns


def write_results(folder: Path, records: list[dict]) -> tuple[Path, Path]:
    """results.json and results.csv in `folder`, each via a temp file and a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = varying_config_keys(records)
    rows = [flat_row(r, keys) for r in records]
    json_path = _replace(folder / "results.json",
                         lambda f: json.dump(records, f, indent=2, default=str))
    csv_path = _replace(folder / "results.csv", lambda f: _write_csv(f, rows))
    return json_path, csv_path


def _write_csv(handle, rows: list[dict]) -> None:
    writer = csv.DictWriter(handle, fieldnames=csv_columns(rows), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value):
    """A CSV cell: lists (rare in configs) as JSON, None as empty."""
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _replace(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as handle:
        write(handle)
    os.replace(tmp, path)
    return path
