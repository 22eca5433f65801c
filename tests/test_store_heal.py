"""The output folder heals: a run folder that cannot be trusted is quarantined (one line) and
redone, an unreadable index is rebuilt from the run folders, and a report refuses predictions that
are not the file result.json recorded."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.errors import BenchError
from bench.specs import Predictions, RunResult, RunSpec
from bench.store import Store

RUN = ["run", "--suite", "mini-xsub", "--data", "synthetic", "--methods", "knn", "--profile",
       "smoke"]
REPORT = ["report", "--suite", "mini-xsub", "--profile", "smoke"]


def bench(*args, cache):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          env={**os.environ, "BENCH_CACHE": str(cache)}, timeout=300)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished knn run on synthetic data (copied per test)."""
    base = tmp_path_factory.mktemp("heal")
    res = bench(*RUN, "--out", str(base / "out"), cache=base / "cache")
    assert res.returncode == 0, res.stderr[-2000:]
    return base


@pytest.fixture
def out(finished, tmp_path):
    shutil.copytree(finished / "out", tmp_path / "out")
    return tmp_path / "out"


def cli(out: Path, *args, finished):
    return bench(*args, "--out", str(out), cache=finished / "cache")


def only_run(out: Path) -> Path:
    (run,) = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    return run


def quarantined(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "quarantine").iterdir())


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damaged", ["result.json", "predictions.npz"])
def test_a_truncated_run_is_quarantined_and_redone(out, finished, damaged):
    run = only_run(out)
    _truncate(run / damaged)
    res = cli(out, *RUN, finished=finished)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("quarantined run")]
    assert len(lines) == 1 and run.name in lines[0] and damaged in lines[0], res.stderr
    (moved,) = quarantined(out)
    assert moved.startswith(run.name + "-") and str(out / "quarantine" / moved) in lines[0]
    assert "0 already done" in res.stderr  # counted as not run, so it ran again
    result = json.loads((run / "result.json").read_text())
    assert result["status"] == "done"
    assert Store(out).problem(run.name) is None


def test_a_result_for_another_run_id_is_quarantined(out):
    run = only_run(out)
    stray = run.with_name("knn-0000000000000000")
    run.rename(stray)
    lines = []
    assert Store(out).heal(say=lines.append) == [stray.name]
    assert len(lines) == 1 and f"is for run {run.name!r}" in lines[0]
    assert not stray.exists() and quarantined(out)[0].startswith(stray.name)


def test_a_spec_that_does_not_hash_to_the_folder_is_quarantined(out):
    run = only_run(out)
    result = json.loads((run / "result.json").read_text())
    result["spec"]["seed"] = 7  # the stored spec no longer gives this run id
    (run / "result.json").write_text(json.dumps(result))
    assert "spec has run id" in Store(out).problem(run.name)


def test_a_garbage_index_is_rebuilt_from_the_run_folders(out, finished):
    run = only_run(out)
    (out / "index.sqlite").write_bytes(b"this is not a database" * 100)
    res = cli(out, *RUN, finished=finished)
    assert res.returncode == 0, res.stderr[-2000:]
    assert [line for line in res.stderr.splitlines() if "index.sqlite was unreadable" in line]
    with sqlite3.connect(out / "index.sqlite") as db:
        assert db.execute("SELECT run_id, status FROM runs").fetchall() == [(run.name, "done")]


def test_a_quarantined_run_leaves_the_index(out):
    store = Store(out)
    store.reconcile_index()
    run = only_run(out)
    _truncate(run / "result.json")
    store.heal(say=lambda _: None)
    store.reconcile_index()
    assert store.indexed() == {}


def test_an_index_write_error_is_one_line_and_keeps_the_run(tmp_path, monkeypatch, capsys):
    store = Store(tmp_path)
    spec = RunSpec("mini-xsub", "noop", {}, 0, "ab" * 32, "smoke", "synthetic:x")

    def disk_full(result):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_insert", disk_full)
    store.index(RunResult(spec.run_id, spec, "done"))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk I/O error" in err[0] and spec.run_id in err[0]


def test_the_report_refuses_predictions_that_changed_after_the_run(out, finished):
    run = only_run(out)
    with np.load(run / "predictions.npz") as z:
        arrays = dict(z)
    arrays["scores"] = np.roll(arrays["scores"], 1, axis=1)  # a valid file, wrong numbers
    np.savez(run / "predictions.npz", **arrays)
    res = cli(out, *REPORT, finished=finished)
    assert res.returncode == 2
    (line,) = res.stderr.strip().splitlines()
    assert run.name in line and "does not match the sha256" in line


def test_runs_stored_without_a_sha256_still_load(out, finished):
    run = only_run(out)
    result = json.loads((run / "result.json").read_text())
    assert len(result.pop("predictions_sha256")) == 64
    (run / "result.json").write_text(json.dumps(result))
    assert Store(out).problem(run.name) is None
    res = cli(out, *REPORT, finished=finished)
    assert res.returncode == 0, res.stderr[-2000:]
    _truncate(run / "predictions.npz")  # without a sha256 the file must still read back whole
    assert "predictions.npz unreadable" in Store(out).problem(run.name)
    with pytest.raises(BenchError, match=run.name):
        Store(out).load_predictions(run.name)


def test_commit_records_the_predictions_sha256(tmp_path):
    store = Store(tmp_path)
    spec = RunSpec("mini-xsub", "noop", {}, 0, "ab" * 32, "smoke", "synthetic:x")
    preds = Predictions(["a"], [0], np.array([[1.0, 0.0]]))
    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "done"), preds)
    import hashlib
    digest = hashlib.sha256((store.run_dir(spec.run_id) / "predictions.npz").read_bytes())
    assert store.load_result(spec.run_id)["predictions_sha256"] == digest.hexdigest()
