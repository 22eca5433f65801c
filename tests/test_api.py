"""The Python API: `from bench import run_suite, load_results` return results.json's records."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import load_results, run_suite
from bench.errors import BenchError
from bench.specs import short_hash


def test_import_bench_stays_light():
    code = "import sys, bench; print(sorted(m for m in sys.modules if m.startswith('bench')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bench']"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("api") / "out"


@pytest.fixture(scope="module")
def records(out):
    return run_suite("mini-xsub", methods=["knn"], profile="smoke", seeds=(0, 1), out=out,
                     frames=16)


def test_run_suite_returns_one_record_per_run(out, records):
    assert [(r["method"], r["seed"], r["status"]) for r in records] == [("knn", 0, "done"),
                                                                       ("knn", 1, "done")]
    for r in records:
        stored = json.loads((out / "runs" / r["run_id"] / "result.json").read_text())
        assert r["config"]["frames"] == 16 == stored["spec"]["config"]["frames"]  # the override
        assert r["config_hash"] == short_hash(stored["spec"]["config"])
        assert r["metrics"] == stored["metrics"]
    # the same records the report folder holds
    report = json.loads((out / "reports" / "mini-xsub" / "results.json").read_text())
    assert report == records


def test_load_results_reads_the_stored_runs(out, records):
    assert load_results(out, suite="mini-xsub") == records
    assert load_results(out) == records  # one suite stored: the same


def test_a_second_run_suite_resumes_and_returns_the_same(out, records):
    again = run_suite("mini-xsub", methods="knn", profile="smoke", seeds=[0, 1], out=out,
                      frames=16)
    assert again == records


def test_api_errors_are_bench_errors(out, records, tmp_path):
    with pytest.raises(BenchError, match="no runs of it"):
        load_results(out, suite="ntu60-xsub")
    with pytest.raises(BenchError, match="no runs stored"):
        load_results(tmp_path / "empty")
    with pytest.raises(BenchError, match="did you mean 'frames'"):
        run_suite("mini-xsub", methods=["knn"], profile="smoke", out=tmp_path, framez=16)
