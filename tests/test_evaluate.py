"""`--evaluate val`: choosing settings without touching test. The split's validation part
becomes the scored part and leaves training (so fit_on=train+val and best-on-val selection
cannot see it); it is in the split manifest (so in the run id) and every report says so."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bench import run_suite
from bench.cli import main
from bench.data.datasets import load_bundle, resolve_source, suite_ref
from bench.errors import BenchError
from bench.specs import DataRef
from bench.store import load_predictions
from bench.suites import SUITES

RUN = ["--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke"]
NOTE = "(--evaluate val: scored on the validation part, not test)"


def source(evaluate: str = "test", limit: int = 0):
    suite = SUITES.get("mini-xsub")
    ref = dataclasses.replace(suite_ref(suite, "synthetic"), evaluate=evaluate, limit=limit)
    return resolve_source(suite, ref)


def test_the_validation_part_becomes_the_scored_part_and_leaves_training():
    whole, val = source().manifest, source("val").manifest
    assert len(whole.val) > 0  # else the test would prove nothing
    assert val.test == whole.val and val.val == () and val.train == whole.train
    assert val.sha256 != whole.sha256 and source("val").manifest.sha256 == val.sha256
    bundle = load_bundle(source("val"))
    assert list(bundle.test.sample_ids) == list(whole.val) and len(bundle.val) == 0
    # train + val (a fit_on=train+val method's data) holds none of the scored clips
    assert not set(bundle.with_val_in_train().train.sample_ids) & set(whole.val)


def test_evaluate_is_checked_and_kept_out_of_the_data_identity():
    ref = source("val").ref
    assert ref.evaluate == "val" and "evaluate" not in ref.identity()
    with pytest.raises(ValueError, match="evaluate 'dev'"):
        DataRef("synthetic", evaluate="dev")
    # a split without a validation part has nothing to score
    suite = SUITES.get("mini-xsub")
    empty = dataclasses.replace(source().manifest, val=())
    from bench.data import datasets
    with pytest.raises(BenchError, match="--evaluate val: suite mini-xsub's split has no "
                                         "validation part"):
        datasets._validation_as_test(dataclasses.replace(source(), manifest=empty, suite=suite))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate") / "out"
    assert main(["run", *RUN, "--methods", "knn", "--evaluate", "val", "--out", str(out)]) == 0
    assert main(["ablate", "knn.frames", "--values", "8", *RUN, "--evaluate", "val",
                 "--out", str(out)]) == 0
    return out


def test_validation_runs_score_the_validation_clips_and_reports_say_so(out):
    run_dirs = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    assert len(run_dirs) == 2
    for run_dir in run_dirs:
        assert load_predictions(run_dir).sample_ids == list(source().manifest.val)
        spec = json.loads((run_dir / "spec.json").read_text())
        assert spec["data"]["evaluate"] == "val"
        assert spec["manifest_sha256"] == source("val").manifest.sha256
    for name in ("mini-xsub", "knn.frames"):
        folder = out / "reports" / name
        md = (folder / "report.md").read_text()
        assert NOTE in md.split("\n\n")[1], name
        assert NOTE in (folder / "report.tex").read_text()
        assert {r["evaluate"] for r in json.loads((folder / "results.json").read_text())} == {"val"}
    suite_md = (out / "reports" / "mini-xsub" / "report.md").read_text()
    assert "scored on the validation part (--evaluate val), not test" in suite_md


def test_test_runs_are_other_runs_and_bench_report_never_mixes_them(out, capsys):
    val = run_suite("mini-xsub", methods=["knn"], profile="smoke", out=out, evaluate="val")
    report = ["report", "--suite", "mini-xsub", "--profile", "smoke", "--out", str(out),
              "--format", "json"]
    capsys.readouterr()
    assert main(report) == 2  # only validation runs stored so far
    assert "pass --evaluate val" in capsys.readouterr().err
    test = run_suite("mini-xsub", methods=["knn"], profile="smoke", out=out)
    assert val[0]["evaluate"] == "val" and test[0]["evaluate"] == "test"
    assert val[0]["run_id"] != test[0]["run_id"]
    for extra, evaluate in (([], "test"), (["--evaluate", "val"], "val")):
        assert main([*report, *extra]) == 0
        records = json.loads((out / "reports" / "mini-xsub" / "results.json").read_text())
        assert {r["evaluate"] for r in records} == {evaluate}
