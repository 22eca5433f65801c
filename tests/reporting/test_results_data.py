"""Results as data: results.json / results.csv beside every suite and ablation report, one record
per run with the schema bench/reporting/results.py documents."""
from __future__ import annotations

import csv
import json

import pytest

from bench.cli import main
from bench.reporting.results import NESTED, SCALARS, SCHEMA_VERSION
from bench.specs import short_hash

RUN = ["--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke"]
CLASSIFICATION = ("top1", "top5", "mean_class_acc", "macro_f1")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """One knn suite run (two seeds) and one two-point knn ablation, in one output folder."""
    out = tmp_path_factory.mktemp("results") / "out"
    assert main(["run", *RUN, "--methods", "knn", "--seeds", "0,1", "--out", str(out)]) == 0
    assert main(["ablate", "knn.frames", "--values", "8,16", *RUN, "--out", str(out)]) == 0
    return out


def stored(out, run_id) -> dict:
    return json.loads((out / "runs" / run_id / "result.json").read_text())


def check_record(out, record: dict) -> None:
    result = stored(out, record["run_id"])
    spec = result["spec"]
    assert record["schema_version"] == SCHEMA_VERSION
    assert set(SCALARS) | set(NESTED) <= set(record)
    assert (record["method"], record["profile"], record["seed"]) == (
        spec["method"], spec["profile"], spec["seed"])
    assert record["config_hash"] == short_hash(spec["config"])
    assert record["manifest_sha256"] == spec["manifest_sha256"]
    assert record["data_kind"] == "synthetic" and record["limit"] is None
    assert record["metrics"] == result["metrics"]  # every stored metric, as stored
    assert record["timings"] == result["timings"] and record["versions"] == result["versions"]
    assert record["code_version"] == result["versions"].get("git")
    for key in CLASSIFICATION:
        ci = record["ci95"][key]
        assert ci["low"] <= record["metrics"][key] <= ci["high"], key


def read_csv(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_suite_report_writes_one_record_per_run(out):
    folder = out / "reports" / "mini-xsub"
    records = json.loads((folder / "results.json").read_text())
    assert sorted(r["seed"] for r in records) == [0, 1]
    for record in records:
        check_record(out, record)
    rows = read_csv(folder / "results.csv")
    assert [r["run_id"] for r in rows] == [r["run_id"] for r in records]
    for row, record in zip(rows, records):
        assert float(row["metrics.top1"]) == pytest.approx(record["metrics"]["top1"])
        assert float(row["ci95.top1.low"]) == pytest.approx(record["ci95"]["top1"]["low"])
        assert row["config_hash"] == record["config_hash"]
    assert not any(c.startswith("config.") for c in rows[0])  # the seeds share one config


def test_ablation_report_writes_its_axis_as_a_column(out):
    folder = out / "reports" / "knn.frames"
    records = json.loads((folder / "results.json").read_text())
    assert sorted(r["config"]["frames"] for r in records) == [8, 16]
    assert len({r["config_hash"] for r in records}) == 2
    for record in records:
        check_record(out, record)
    rows = read_csv(folder / "results.csv")
    assert sorted(int(r["config.frames"]) for r in rows) == [8, 16]


def test_report_format_prints_the_results_files(out, capsys):
    assert main(["report", "--suite", "mini-xsub", "--profile", "smoke", "--out", str(out),
                 "--format", "csv,json"]) == 0
    printed = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[1] for p in printed] == ["results.csv", "results.json"]
