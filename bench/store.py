"""Run artifacts under <out>/runs/<run_id>/, written atomically, plus an index only the driver writes.

A run directory appears (by rename) only once all its files are complete, so a killed run leaves
either nothing or a finished run; resume = skip the run ids whose directory holds a result. The
SQLite index is derived from the run directories: the driver reconciles it at start, so a kill
between a run's commit and its index row loses nothing.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.specs import Predictions, RunResult, RunSpec

_SCRATCH_PREFIXES = (".staging-", ".trash-")


class Store:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.runs = self.out / "runs"
        self.progress_dir = self.runs / ".progress"  # live step counters of running runs

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def status(self, run_id: str) -> str | None:
        """'done', 'failed' or None (never ran, or was killed before its commit)."""
        path = self.run_dir(run_id) / "result.json"
        try:
            return json.loads(path.read_text()).get("status")
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: treated as not run, and replaced by the rerun

    def is_done(self, run_id: str) -> bool:
        return self.status(run_id) == "done"

    def staging_dir(self, run_id: str) -> Path:
        """A private directory the run writes into; `commit` renames it into place."""
        path = self.runs / f".staging-{run_id}-{os.getpid()}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def commit(self, staging: Path, result: RunResult, predictions: Predictions | None) -> Path:
        """Move a complete run into place. A finished run already there wins (first writer);
        a failed one is replaced (a retry)."""
        write_json(staging / "spec.json", result.spec.to_dict())
        if predictions is not None:
            save_predictions(staging, predictions)
        write_json(staging / "result.json", result.to_dict())  # written last: marks completeness
        final = self.run_dir(result.run_id)
        for _ in range(3):
            try:
                os.rename(staging, final)  # fails if `final` exists and is not empty
                return final
            except OSError:
                if not final.exists():
                    continue
                if self.is_done(result.run_id):
                    shutil.rmtree(staging, ignore_errors=True)
                    return final
                # A failed or unreadable earlier attempt: set it aside atomically, then replace.
                trash = self.runs / f".trash-{result.run_id}-{os.getpid()}-{time.monotonic_ns()}"
                os.rename(final, trash)
                shutil.rmtree(trash, ignore_errors=True)
        raise OSError(f"could not move {staging} to {final}")

    def load_result(self, run_id: str) -> dict:
        return json.loads((self.run_dir(run_id) / "result.json").read_text())

    def load_predictions(self, run_id: str) -> Predictions:
        return load_predictions(self.run_dir(run_id))

    def run_ids(self) -> list[str]:
        """Run directories that hold a complete result."""
        if not self.runs.is_dir():
            return []
        return [p.name for p in sorted(self.runs.iterdir())
                if not p.name.startswith(".") and (p / "result.json").exists()]

    def results(self) -> list[dict]:
        return [self.load_result(run_id) for run_id in self.run_ids()]

    # ------------------------------------------------------------------ driver only
    @contextlib.contextmanager
    def driver_lock(self):
        """One driver per output folder: a second `bench` on the same --out is refused. The
        kernel drops the lock when the process dies, so a killed driver never blocks a resume."""
        self.runs.mkdir(parents=True, exist_ok=True)
        with open(self.out / ".driver.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BenchError(f"{self.out}: another bench run or ablate is using this output "
                                 f"folder; wait for it or pass a different --out") from None
            yield

    def clean_scratch(self) -> int:
        """Remove what killed runs left behind (staging and trash folders, progress files)."""
        removed = 0
        if self.runs.is_dir():
            for p in self.runs.iterdir():
                if p.name.startswith(_SCRATCH_PREFIXES):
                    shutil.rmtree(p, ignore_errors=True)
                    removed += 1
        shutil.rmtree(self.progress_dir, ignore_errors=True)
        return removed

    def _db(self) -> sqlite3.Connection:
        self.out.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.out / "index.sqlite", timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, suite TEXT, "
                   "method TEXT, seed INT, profile TEXT, manifest TEXT, status TEXT, "
                   "top1 REAL, spec TEXT)")
        return db

    def index(self, result: RunResult) -> None:
        """Record a finished run in the SQLite index (driver process only); one row per run id."""
        with contextlib.closing(self._db()) as db, db:
            db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?)", (
                result.run_id, result.spec.suite, result.spec.method, result.spec.seed,
                result.spec.profile, result.spec.manifest_sha256, result.status,
                result.metrics.get("top1"), json.dumps(result.spec.to_dict(), sort_keys=True)))

    def indexed(self) -> dict[str, str]:
        """run_id -> status as the index records it."""
        if not (self.out / "index.sqlite").exists():
            return {}
        with contextlib.closing(self._db()) as db:
            return dict(db.execute("SELECT run_id, status FROM runs").fetchall())

    def reconcile_index(self) -> int:
        """Index the run directories the index lacks or records with another status (a driver
        killed between a run's commit and its index row); returns how many rows were written."""
        rows = self.indexed()
        fixed = 0
        for run_id in self.run_ids():
            result = self.load_result(run_id)
            if rows.get(run_id) != result.get("status"):
                self.index(result_from_dict(result))
                fixed += 1
        return fixed


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock between processes on one machine (a stage being built: the second run
    waits, then finds it cached instead of building it again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def result_from_dict(d: dict) -> RunResult:
    return RunResult(**{**d, "spec": RunSpec.from_dict(d["spec"])})


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
    if p.context:
        write_json(run_dir / "explanation_context.json", p.context)


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
    context_file = run_dir / "explanation_context.json"
    context = json.loads(context_file.read_text()) if context_file.exists() else {}
    return Predictions(ids, labels, scores, texts, extra, context)
