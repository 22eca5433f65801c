"""Run artifacts under <out>/runs/<run_id>/, written atomically, plus an index only the driver writes.

A run directory appears (by rename) only once all its files are complete, so a killed run leaves
either nothing or a finished run; resume = skip the run ids whose directory holds a result. The
SQLite index is derived from the run directories: the driver reconciles it at start, so a kill
between a run's commit and its index row loses nothing, and an unreadable index is rebuilt.

The folder heals: a run folder that cannot be trusted (unreadable result.json, a result for
another run id, predictions.npz missing, truncated or not the file whose sha256 result.json
records) is moved to <out>/quarantine/<run_id>-<time>/ with one printed line and counts as not
run, so the next `bench run` redoes it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.specs import Predictions, RunResult, RunSpec, file_sha256

_SCRATCH_PREFIXES = (".staging-", ".trash-")
_STATUSES = ("done", "failed")


def notice(msg: str) -> None:
    """One line on stderr (stdout stays machine-readable), as the driver's progress lines."""
    print(msg, file=sys.stderr, flush=True)


class Store:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.runs = self.out / "runs"
        self.progress_dir = self.runs / ".progress"  # live step counters of running runs

    def check_writable(self) -> None:
        """A one-line error, before any work, when --out cannot hold the runs (a file, a file in
        its path, no permission, a read-only file system)."""
        for path in [self.out, *self.out.parents]:
            if path.exists() and not path.is_dir():
                raise BenchError(f"--out {self.out}: {path} is a file; expected a folder")
            if path.exists():
                break
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.runs):
                pass
        except OSError as exc:
            raise BenchError(f"--out {self.out}: cannot write there ({exc.strerror or exc}); "
                             f"pass a writable folder") from None

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
            sha = file_sha256(staging / "predictions.npz")  # the report checks it before reading
            result = dataclasses.replace(result, predictions_sha256=sha)
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
        """The run's predictions, refused (one line naming the run) when predictions.npz is not
        the file result.json recorded: a report must not render numbers from a damaged file."""
        folder = self.run_dir(run_id)
        why = predictions_problem(folder, self.load_result(run_id).get("predictions_sha256"))
        if why:
            raise BenchError(f"run {run_id}: {why} in {folder}; `bench run` moves it aside and "
                             f"redoes it")
        return load_predictions(folder)

    def run_ids(self) -> list[str]:
        """Run directories that hold a complete result."""
        if not self.runs.is_dir():
            return []
        return [p.name for p in sorted(self.runs.iterdir())
                if not p.name.startswith(".") and (p / "result.json").exists()]

    def results(self) -> list[dict]:
        return [self.load_result(run_id) for run_id in self.run_ids()]

    # ------------------------------------------------------------------ healing
    def problem(self, run_id: str, deep: bool = True) -> str | None:
        """Why the run folder cannot be trusted, or None. `deep` also checks predictions.npz
        (reads the file: done for the runs a sweep plans, not every folder)."""
        folder = self.run_dir(run_id)
        try:
            d = json.loads((folder / "result.json").read_text())
        except FileNotFoundError:
            return None  # not a run (yet): commit replaces such a folder
        except (OSError, ValueError) as exc:
            return f"result.json unreadable ({_first_line(exc)})"
        if not isinstance(d, dict) or d.get("status") not in _STATUSES:
            return "result.json holds no run status"
        if d.get("run_id") != run_id:
            return f"result.json is for run {d.get('run_id')!r}"
        try:
            spec = result_from_dict(d).spec
        except (KeyError, TypeError, ValueError) as exc:
            return f"result.json's spec unreadable ({_first_line(exc)})"
        # Specs stored before DataRef (data as a string) hashed differently: not rechecked.
        if isinstance(d["spec"].get("data"), dict) and spec.run_id != run_id:
            return f"result.json's spec has run id {spec.run_id}"
        if deep and d["status"] == "done":
            return predictions_problem(folder, d.get("predictions_sha256"))
        return None

    def heal(self, deep_ids=None, say=notice) -> list[str]:
        """Quarantine every run folder with a problem (deep checks for `deep_ids`, all when
        None); each gets one line. Returns the run ids moved aside."""
        moved = []
        for run_id in self._run_folders():
            why = self.problem(run_id, deep=deep_ids is None or run_id in deep_ids)
            if why:
                dest = self.quarantine(run_id, why)
                say(f"quarantined run {run_id} ({why}): moved to {dest}; it counts as not run")
                moved.append(run_id)
        return moved

    def quarantine(self, run_id: str, why: str) -> Path:
        """Move a run folder to <out>/quarantine/<run_id>-<time>/ (kept for inspection)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.out / "quarantine" / f"{run_id}-{stamp}"
        n = 1
        while dest.exists():
            n += 1
            dest = self.out / "quarantine" / f"{run_id}-{stamp}-{n}"
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.run_dir(run_id), dest)
        except OSError as exc:
            raise BenchError(f"{self.run_dir(run_id)}: {why}, and it could not be moved to "
                             f"{dest.parent} ({exc.strerror}); move or delete it") from None
        return dest

    def _run_folders(self) -> list[str]:
        if not self.runs.is_dir():
            return []
        return [p.name for p in sorted(self.runs.iterdir())
                if p.is_dir() and not p.name.startswith(".")]

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

    def _insert(self, result: RunResult) -> None:
        with contextlib.closing(self._db()) as db, db:
            db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?)", (
                result.run_id, result.spec.suite, result.spec.method, result.spec.seed,
                result.spec.profile, result.spec.manifest_sha256, result.status,
                result.metrics.get("top1"), json.dumps(result.spec.to_dict(), sort_keys=True)))

    def index(self, result: RunResult) -> None:
        """Record a finished run in the SQLite index (driver process only); one row per run id.
        A failed write (disk full) costs nothing but a line: the run folder is the record, and
        the next start rebuilds the index from the folders."""
        try:
            self._insert(result)
        except sqlite3.Error as exc:
            notice(f"index: could not record run {result.run_id} in {self.index_path} ({exc}); "
                   f"the run is kept and the index is rebuilt at the next start")

    @property
    def index_path(self) -> Path:
        return self.out / "index.sqlite"

    def indexed(self) -> dict[str, str]:
        """run_id -> status as the index records it."""
        if not self.index_path.exists():
            return {}
        with contextlib.closing(self._db()) as db:
            return dict(db.execute("SELECT run_id, status FROM runs").fetchall())

    def reconcile_index(self) -> int:
        """Bring the index in line with the run directories: rows for runs it lacks or records
        with another status (a driver killed between a run's commit and its index row), none for
        runs no longer there (quarantined); an unreadable index is rebuilt. Returns the number
        of rows changed."""
        try:
            return self._reconcile()
        except sqlite3.Error as exc:
            notice(f"index: {self.index_path} was unreadable ({exc}); rebuilding it from the run "
                   f"folders")
        self._drop_index()
        try:
            return self._reconcile()
        except sqlite3.Error as exc:
            raise BenchError(f"{self.index_path}: cannot be written ({exc}); free disk space or "
                             f"pass another --out") from None

    def _reconcile(self) -> int:
        rows = self.indexed()
        on_disk = {run_id: self.load_result(run_id) for run_id in self.run_ids()}
        stale = [run_id for run_id in rows if run_id not in on_disk]
        if stale:
            with contextlib.closing(self._db()) as db, db:
                db.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in stale])
        fixed = len(stale)
        for run_id, result in on_disk.items():
            if rows.get(run_id) != result.get("status"):
                self._insert(result_from_dict(result))
                fixed += 1
        return fixed

    def _drop_index(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = self.index_path.with_name(self.index_path.name + suffix)
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise BenchError(f"{path}: unreadable and cannot be removed ({exc.strerror}); "
                                 f"delete it (it is rebuilt from the run folders)") from None


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


def predictions_problem(folder: Path, recorded_sha256: str | None) -> str | None:
    """Why predictions.npz cannot be trusted, or None. With a recorded sha256 the file must
    match it; runs stored before it was recorded must at least read back whole."""
    path = folder / "predictions.npz"
    if not path.is_file():
        return "predictions.npz is missing"
    if recorded_sha256:
        if file_sha256(path) != recorded_sha256:
            return "predictions.npz does not match the sha256 its result.json records"
        return None
    try:
        load_predictions(folder)
    except Exception as exc:  # noqa: BLE001 - a damaged zip raises many kinds of error
        return f"predictions.npz unreadable ({type(exc).__name__}: {_first_line(exc)})"
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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
