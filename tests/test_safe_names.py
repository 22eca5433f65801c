"""Names from data files never become paths unsanitised: a pickle's split name makes its suite
name, and the suite name a report folder."""
from __future__ import annotations

import os
import subprocess
import sys

from toys import kinect_pose_data

from bench.data.layouts import KINECT20
from bench.data.pose.pkl_io import write_pose_pickle
from bench.paths import safe_folder_name

ESCAPE = "x/../../../../ESCAPED"


def test_safe_folder_name_keeps_plain_names_and_never_climbs():
    assert safe_folder_name("mini.pkl-xsub") == "mini.pkl-xsub"
    assert safe_folder_name("my data.pkl-xview") == "my data.pkl-xview"
    for hostile in (ESCAPE, "..", ".", "", "a\nb", "a\\..\\b", "x" * 300):
        name = safe_folder_name(hostile)
        assert "/" not in name and "\\" not in name and "\n" not in name, name
        assert name not in ("", ".", "..") and len(name) < 140
    assert safe_folder_name("a/b") != safe_folder_name("a_b")  # no two names share a folder


def test_a_hostile_split_name_stays_inside_out(tmp_path):
    data = kinect_pose_data()
    data.split = {f"{ESCAPE}_{part}": ids for part, ids in
                  (("train", data.split["xsub_train"]), ("val", data.split["xsub_val"]))}
    pkl = write_pose_pickle(tmp_path / "evil.pkl", data, KINECT20)
    out = tmp_path / "a" / "b" / "c" / "out"
    res = subprocess.run([sys.executable, "-m", "bench", "run", "--data", str(pkl), "--layout",
                          "kinect20", "--split", ESCAPE, "--methods", "noop", "--profile",
                          "smoke", "--out", str(out)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "BENCH_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr[-2000:]
    escaped = [p for p in tmp_path.rglob("*ESCAPED*") if out not in p.parents]
    assert escaped == []
    report = out / "reports" / safe_folder_name(f"evil.pkl-{ESCAPE}") / "report.md"
    assert res.stdout.strip().splitlines()[-1] == str(report) and report.is_file()
