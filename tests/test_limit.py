"""`--limit N`: at most N test samples per class, in the split manifest (so in the run id), and
said in every report table and record it touches."""
from __future__ import annotations

import collections
import dataclasses
import json

import pytest

from bench import run_suite
from bench.cli import main
from bench.data.datasets import resolve_source, suite_ref
from bench.store import load_predictions
from bench.suites import SUITES

RUN = ["--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke"]
NOTE = "(--limit 2: test samples capped per class)"


def source(limit: int = 0):
    suite = SUITES.get("mini-xsub")
    return resolve_source(suite, dataclasses.replace(suite_ref(suite, "synthetic"), limit=limit))


def per_class(ids) -> collections.Counter:
    return collections.Counter(int(name[-3:]) for name in ids)  # NTU names end in Aaaa


def test_limit_caps_the_test_list_per_class_and_changes_the_manifest():
    whole, limited = source().manifest, source(2).manifest
    assert max(per_class(whole.test).values()) > 2  # else the test would prove nothing
    assert max(per_class(limited.test).values()) <= 2
    assert set(per_class(limited.test)) == set(per_class(whole.test))  # every class kept
    assert set(limited.test) < set(whole.test)
    assert (limited.train, limited.val) == (whole.train, whole.val)
    assert limited.sha256 != whole.sha256
    assert source(2).manifest.sha256 == limited.sha256  # deterministic
    kept = sorted(limited.test)  # the first two ids of each class
    for cls in per_class(whole.test):
        ids = sorted(i for i in whole.test if int(i[-3:]) == cls)
        assert [i for i in kept if int(i[-3:]) == cls] == ids[:2]


def test_limit_is_not_in_the_data_identity():
    ref = source(2).ref
    assert ref.limit == 2 and "limit" not in ref.identity()  # the manifest hash carries it


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("limit") / "out"
    assert main(["run", *RUN, "--methods", "knn", "--limit", "2", "--out", str(out)]) == 0
    assert main(["ablate", "knn.frames", "--values", "8", *RUN, "--limit", "2",
                 "--out", str(out)]) == 0
    return out


def test_a_limited_run_tests_at_most_n_per_class(out):
    run_dirs = [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]
    assert len(run_dirs) == 2
    for run_dir in run_dirs:
        predictions = load_predictions(run_dir)
        assert max(per_class(predictions.sample_ids).values()) <= 2
        spec = json.loads((run_dir / "spec.json").read_text())
        assert spec["manifest_sha256"] == source(2).manifest.sha256 != source().manifest.sha256
        assert spec["data"]["limit"] == 2


def test_limited_reports_and_records_say_so(out):
    for name in ("mini-xsub", "knn.frames"):
        folder = out / "reports" / name
        md = (folder / "report.md").read_text()
        opening = md.split("\n\n")[1]
        assert NOTE in opening, name
        assert md.count(f"_{NOTE}_") == md.count("\n|--") >= 1  # under every table
        assert NOTE in (folder / "report.tex").read_text()
        assert {r["limit"] for r in json.loads((folder / "results.json").read_text())} == {2}


def test_an_unlimited_run_is_another_run(out):
    records = run_suite("mini-xsub", methods=["knn"], profile="smoke", out=out)
    limited = run_suite("mini-xsub", methods=["knn"], profile="smoke", out=out, limit=2)
    assert records[0]["limit"] is None and limited[0]["limit"] == 2
    assert records[0]["run_id"] != limited[0]["run_id"]
    assert records[0]["manifest_sha256"] != limited[0]["manifest_sha256"]


def test_bench_report_picks_the_limited_or_the_whole_runs(out, capsys):
    """After test_an_unlimited_run_is_another_run the folder holds both kinds of knn run."""
    report = ["report", "--suite", "mini-xsub", "--profile", "smoke", "--out", str(out),
              "--format", "json"]
    for extra, limit in (([], None), (["--limit", "2"], 2)):
        assert main([*report, *extra]) == 0
        records = json.loads((out / "reports" / "mini-xsub" / "results.json").read_text())
        assert {r["limit"] for r in records} == {limit}
    capsys.readouterr()
    assert main([*report, "--limit", "5"]) == 2
    assert "no runs of suite mini-xsub with --limit 5" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_a_non_positive_limit_is_one_line(limit, capsys, tmp_path):
    assert main(["run", *RUN, "--methods", "knn", "--limit", limit, "--out",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"bench: error: --limit {limit}: expected a positive number of test samples " \
                  f"per class"


def test_a_profile_tests_on_its_own_limit_unless_told(tmp_path, monkeypatch, capsys):
    """A protocol may give a profile a limit of its own (suites/protocol.toml: quick, 3): its
    runs and reports use it without --limit, the protocol line says so, and --limit N still
    overrides it. mini-xsub has 3 test clips per class, so the test gives quick 2."""
    suite = dataclasses.replace(SUITES.get("mini-xsub"), limit={"quick": 2})
    monkeypatch.setitem(SUITES._entries, "mini-xsub", suite)
    out = tmp_path / "out"
    run = ["run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "quick",
           "--methods", "knn", "--out", str(out)]
    assert main([*run, "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "# --limit 2: test samples capped per class"
    assert main(run) == 0 and main([*run, "--limit", "1"]) == 0
    limits = sorted(json.loads((d / "spec.json").read_text())["data"]["limit"]
                    for d in (out / "runs").iterdir() if not d.name.startswith("."))
    assert limits == [1, 2]
    assert main(["report", "--suite", "mini-xsub", "--profile", "quick", "--out", str(out),
                 "--format", "json"]) == 0
    folder = out / "reports" / "mini-xsub"
    assert {r["limit"] for r in json.loads((folder / "results.json").read_text())} == {2}
    md = (folder / "report.md").read_text()
    assert "tested on the first 2 test clips of each class (the quick budget)" in md
    assert "(--limit 2: test samples capped per class)" in md
    assert SUITES.get("ntu60-xsub").limit_for("quick") == 3  # the shipped protocol's
    assert SUITES.get("ntu60-xsub").limit_for("cpu") is None
