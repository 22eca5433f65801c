"""A run id names what changes the result: the data's content, layout, split and frame rate, never
its path. Also: the printed resources are the ones a run uses, the exit status says whether
every run finished, and bad seeds are one-line errors."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from toys import kinect_pose_data

from bench.data.layouts import KINECT20
from bench.data.pose.pkl_io import write_pose_pickle
from bench.specs import DataRef, RunSpec

SYNTHETIC_RUN = ["--suite", "mini-xsub", "--data", "synthetic", "--methods", "noop",
                 "--profile", "smoke"]


def bench(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def planned_ids(*args) -> list[str]:
    res = bench(*args, "--dry-run")
    assert res.returncode == 0, res.stderr[-2000:]
    return [line.split("\t")[0] for line in res.stdout.splitlines() if not line.startswith("#")]


@pytest.fixture
def toy_pkl(tmp_path):
    return write_pose_pickle(tmp_path / "toy.pkl", kinect_pose_data(extra_split=True), KINECT20)


def pickle_run(path, *extra):
    return ["--data", str(path), "--layout", "kinect20", "--methods", "noop", "--profile",
            "smoke", *extra]


def _spec(**data):
    ref = DataRef(**{"kind": "pickle", "digest": "d" * 64, "layout": "kinect20", "split": "xsub",
                     "fps": 30.0, "location": "/a/toy.pkl", **data})
    return RunSpec("toy.pkl-xsub", "knn", {"k": 1}, 0, "ab" * 32, "smoke", ref)


def test_run_id_covers_the_data_identity_but_not_its_location():
    base = _spec()
    assert _spec(location="/elsewhere/toy.pkl").run_id == base.run_id
    assert _spec(fps=30).run_id == base.run_id  # 30 and 30.0 are one frame rate
    for changed in ({"fps": 15.0}, {"layout": "ntu25"}, {"split": "xview"}, {"digest": "e" * 64},
                    {"kind": "kinect-v1"}):
        assert _spec(**changed).run_id != base.run_id, changed
    # the location is still recorded, and the dict form loads back to the same spec
    assert base.to_dict()["data"]["location"] == "/a/toy.pkl"
    assert RunSpec.from_dict(json.loads(json.dumps(base.to_dict()))) == base


def test_older_string_data_still_loads():
    old = {"suite": "mini-xsub", "method": "noop", "config": {}, "seed": 0,
           "manifest_sha256": "ab" * 32, "profile": "smoke"}
    synthetic = RunSpec.from_dict({**old, "data": "synthetic:29a4ee043cf28316"}).data
    assert (synthetic.kind, synthetic.digest) == ("synthetic", "29a4ee043cf28316")
    assert RunSpec.from_dict({**old, "data": "/data/x.pkl"}).data.kind == "pickle"
    root = RunSpec.from_dict({**old, "data": "/data/ntu"}).data
    assert (root.kind, root.location) == ("ntu-raw", "/data/ntu")
    with pytest.raises(ValueError, match="DataRef kind 'tape'"):
        DataRef("tape")


def test_fps_layout_and_split_change_the_ids(toy_pkl):
    xsub = planned_ids("run", *pickle_run(toy_pkl, "--split", "xsub"))
    assert len(xsub) == 1
    assert planned_ids("run", *pickle_run(toy_pkl, "--split", "xsub", "--fps", "30")) == xsub
    assert planned_ids("run", *pickle_run(toy_pkl, "--split", "xsub", "--fps", "15")) != xsub
    assert planned_ids("run", *pickle_run(toy_pkl, "--split", "xview")) != xsub


def test_a_copied_pickle_gives_the_same_runs_already_done(toy_pkl, tmp_path):
    out = tmp_path / "out"
    first = bench("run", *pickle_run(toy_pkl, "--split", "xsub", "--fps", "15"),
                  "--out", str(out))
    assert first.returncode == 0, first.stderr[-3000:]
    (run_dir,) = (out / "runs").glob("noop-*")
    data = json.loads((run_dir / "spec.json").read_text())["data"]
    assert data == {"kind": "pickle", "digest": hashlib.sha256(toy_pkl.read_bytes()).hexdigest(),
                    "layout": "kinect20", "split": "xsub", "fps": 15.0,
                    "location": str(toy_pkl.resolve()), "limit": 0, "evaluate": "test"}

    copy = tmp_path / "moved" / "toy.pkl"
    copy.parent.mkdir()
    shutil.copy(toy_pkl, copy)
    assert planned_ids("run", *pickle_run(copy, "--split", "xsub", "--fps", "15"),
                       "--out", str(out)) == [run_dir.name]
    again = bench("run", *pickle_run(copy, "--split", "xsub", "--fps", "15"), "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 runs planned, 1 already done" in again.stderr
    assert again.stdout.strip().splitlines()[-1].endswith("report.md")


def test_printed_threads_failures_exit_status_and_older_runs_in_reports(tmp_path):
    out = tmp_path / "out"
    # the local executor gives each run OMP_NUM_THREADS threads: that is what it prints
    ok = bench("run", *SYNTHETIC_RUN, "--out", str(out), env={"OMP_NUM_THREADS": "3"})
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "each run: 3 CPU thread(s)" in ok.stderr

    failed = bench("run", *SYNTHETIC_RUN, "--seeds", "1", "--out", str(out),
                   env={"BENCH_NOOP_FAIL": "1"})
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "1 run(s) failed" in failed.stderr
    assert failed.stdout.strip().splitlines()[-1].endswith("report.md")

    # a run stored before DataRef (its data a string) is still reported, synthetic or not
    report = out / "reports" / "mini-xsub" / "report.md"
    for old_data, synthetic in (("synthetic:29a4ee043cf28316", True), ("/data/ntu", False)):
        for name in ("spec.json", "result.json"):
            for run_dir in (out / "runs").glob("noop-*"):
                stored = json.loads((run_dir / name).read_text())
                (stored.get("spec", stored))["data"] = old_data
                (run_dir / name).write_text(json.dumps(stored))
        res = bench("report", "--suite", "mini-xsub", "--profile", "smoke", "--out", str(out))
        assert res.returncode == 0, res.stderr[-3000:]
        assert ("synthetic data" in report.read_text()) == synthetic


@pytest.mark.parametrize("seeds", ["", ",", "-1", "0,x"])
def test_bad_seeds_are_one_line(seeds):
    res = bench("run", *SYNTHETIC_RUN, "--seeds", seeds)
    assert res.returncode == 2 and "--seeds" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_a_split_with_a_colon_is_one_line(toy_pkl):
    res = bench("run", *pickle_run(toy_pkl, "--split", "xsub:x"))
    assert res.returncode == 2 and "no split 'xsub:x'" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["ablate", "vst.codebook", "--values", "0,8"], "vst.codebook must be >= 1, got 0"),
    (["run", "--methods", "knn,lvlm_var", "--set", "lvlm.projector=bogus"],
     "lvlm.projector='bogus'; expected one of"),
    (["run", "--methods", "lvlm_var", "--set", "vst.window=abc"], "'abc'"),
])
def test_configs_are_checked_at_plan_time(tmp_path, args, message):
    common = ["--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
              "--out", str(tmp_path / "out")]
    res = bench(*args, *common)  # not a dry run: a bad value must fail before anything runs
    assert res.returncode == 2 and message in res.stderr, res.stderr[-2000:]
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "runs").exists()


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_valid_configs_pass_the_plan_time_check(profile):
    ok = bench("run", "--methods", "lvlm_var,knn,noop", "--set", "vst.codebook=16", "--suite",
               "mini-xsub", "--data", "synthetic", "--profile", profile, "--dry-run")
    assert ok.returncode == 0 and ok.stdout.strip().endswith("3 pending"), ok.stderr[-2000:]
