"""Run artifacts under <out>/runs/<run_id>/, written atomically, plus an index only the driver writes.

A run directory appears (by rename) only once all its files are complete, so a killed run leaves
either nothing or a finished run; resume = skip the run ids whose directory exists.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np

from bench.specs import Predictions, RunResult, RunSpec


class Store:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.runs = self.out / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def is_done(self, run_id: str) -> bool:
        result = self.run_dir(run_id) / "result.json"
        return result.exists() and json.loads(result.read_text()).get("status") == "done"

    def staging_dir(self, run_id: str) -> Path:
        """A private directory the run writes into; `commit` renames it into place."""
        path = self.runs / f".staging-{run_id}-{os.getpid()}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def commit(self, staging: Path, result: RunResult, predictions: Predictions | None) -> Path:
        write_json(staging / "spec.json", result.spec.to_dict())
        if predictions is not None:
            save_predictions(staging, predictions)
        write_json(staging / "result.json", result.to_dict())  # written last: marks completeness
        final = self.run_dir(result.run_id)
        if final.exists():  # a failed earlier attempt being retried
            shutil.rmtree(final)
        os.replace(staging, final)
        return final

    def load_result(self, run_id: str) -> dict:
        return json.loads((self.run_dir(run_id) / "result.json").read_text())

    def load_predictions(self, run_id: str) -> Predictions:
        return load_predictions(self.run_dir(run_id))

    def results(self) -> list[dict]:
        if not self.runs.is_dir():
            return []
        found = [p / "result.json" for p in sorted(self.runs.iterdir()) if not p.name.startswith(".")]
        return [json.loads(p.read_text()) for p in found if p.exists()]

    def index(self, result: RunResult) -> None:
        """Record a finished run in the SQLite index (driver process only)."""
        self.out.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.out / "index.sqlite") as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, suite TEXT, "
                       "method TEXT, seed INT, profile TEXT, manifest TEXT, status TEXT, "
                       "top1 REAL, spec TEXT)")
            db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?)", (
                result.run_id, result.spec.suite, result.spec.method, result.spec.seed,
                result.spec.profile, result.spec.manifest_sha256, result.status,
                result.metrics.get("top1"), json.dumps(result.spec.to_dict(), sort_keys=True)))


def write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default))
    os.replace(tmp, path)


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def save_predictions(run_dir: Path, p: Predictions) -> None:
    np.savez(run_dir / "predictions.npz", sample_ids=np.array(p.sample_ids, dtype=str),
             labels=p.labels, scores=p.scores)
    if p.texts is not None:
        with open(run_dir / "explanations.jsonl", "w") as f:
            for i, (sid, text) in enumerate(zip(p.sample_ids, p.texts)):
                row = {"sample_id": sid, "text": text}
                row.update({k: v[i] for k, v in p.extra.items()})
                f.write(json.dumps(row, default=_json_default) + "\n")


def load_predictions(run_dir: Path) -> Predictions:
    with np.load(run_dir / "predictions.npz") as z:
        ids, labels, scores = [str(s) for s in z["sample_ids"]], z["labels"], z["scores"]
    texts, extra = None, {}
    expl = run_dir / "explanations.jsonl"
    if expl.exists():
        rows = {r["sample_id"]: r for r in map(json.loads, expl.read_text().splitlines())}
        texts = [rows[s]["text"] for s in ids]
        keys = {k for r in rows.values() for k in r} - {"sample_id", "text"}
        extra = {k: [rows[s].get(k) for s in ids] for k in sorted(keys)}
    return Predictions(ids, labels, scores, texts, extra)
