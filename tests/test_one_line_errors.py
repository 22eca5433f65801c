"""One-line errors instead of tracebacks for what a user can get wrong around the output folder,
the cache, report options and config files; a read-only cache works; reports keep odd class
names inside their table cells; exported pickles are readable by others."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from toys import kinect_pose_data

from bench.data import prepared
from bench.data.layouts import KINECT20
from bench.data.pose.pkl_io import write_pose_pickle
from bench.errors import BenchError
from bench.reporting.tables import markdown_table

SYNTHETIC = ["run", "--suite", "mini-xsub", "--data", "synthetic", "--methods", "noop",
             "--profile", "smoke"]


def bench(*args, cache, cwd=None):
    return subprocess.run([sys.executable, "-m", "bench", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "BENCH_CACHE": str(cache)})


def one_line_error(res, *expected):
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_out_that_is_a_file_is_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    one_line_error(bench(*SYNTHETIC, "--out", afile, cache=tmp_path / "c"),
                   f"--out {afile}: {afile} is a file; expected a folder")
    one_line_error(bench(*SYNTHETIC, "--out", afile / "sub", cache=tmp_path / "c"),
                   f"{afile} is a file")
    assert afile.read_text() == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_unwritable_out_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    one_line_error(bench(*SYNTHETIC, "--out", locked / "out", cache=tmp_path / "c"),
                   "cannot write there")


def test_cache_that_is_a_file_is_one_line(tmp_path):
    afile = tmp_path / "cachefile"
    afile.write_text("")
    one_line_error(bench(*SYNTHETIC, "--out", tmp_path / "out", cache=afile),
                   f"BENCH_CACHE={afile} is a file; expected a folder")


def test_a_cache_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(prepared.tempfile, "mkdtemp", refuse)
    with pytest.raises(BenchError, match="cannot write to the cache at .*Permission denied"):
        prepared.build_once("k", lambda tmp: None)


def test_a_read_only_cache_skips_the_digest_memo(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))  # no memo from earlier tests
    files = [tmp_path / "a.bin", tmp_path / "b.bin"]
    for i, f in enumerate(files):
        f.write_bytes(bytes([i]) * 10)
    os.utime(files[0], ns=(10**18, 10**18))  # not racy: it would be memoised
    os.utime(files[1], ns=(10**18, 10**18))

    def read_only(path, obj):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(prepared, "_write_json_atomic", read_only)
    assert prepared.file_digests(files) == [prepared.file_sha256(f) for f in files]
    assert not (prepared.prepared_root() / prepared.HASH_MEMO).exists()


@pytest.fixture(scope="module")
def pickle_runs(tmp_path_factory):
    """A finished smoke knn run on a pickle whose class names hold '|' and a newline."""
    base = tmp_path_factory.mktemp("pkl")
    data = kinect_pose_data()
    data.class_names = ["wave|hand", "clap\nhands", "kick"]
    write_pose_pickle(base / "mini.pkl", data, KINECT20)
    res = bench("run", "--data", "mini.pkl", "--layout", "kinect20", "--methods", "knn",
                "--profile", "smoke", "--out", "out", cache=base / "cache", cwd=base)
    assert res.returncode == 0, res.stderr[-2000:]
    return base


def report(base, *args):
    return bench("report", "--out", "out", *args, cache=base / "cache", cwd=base)


def test_report_finds_a_pickle_made_suite(pickle_runs):
    res = report(pickle_runs, "--suite", "mini.pkl-xsub", "--profile", "smoke")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["out/reports/mini.pkl-xsub/report.md",
                                  "out/reports/mini.pkl-xsub/report.tex"]


def test_report_says_which_profile_it_looked_for(pickle_runs):
    one_line_error(report(pickle_runs, "--suite", "mini.pkl-xsub"),
                   "with profile 'cpu' (the default; pass --profile to choose)",
                   "stored profiles: smoke")


def test_report_prints_the_results_files_it_wrote(pickle_runs):
    res = report(pickle_runs, "--suite", "mini.pkl-xsub", "--profile", "smoke", "--format",
                 "json,csv")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["out/reports/mini.pkl-xsub/results.json",
                                  "out/reports/mini.pkl-xsub/results.csv"]
    assert all((pickle_runs / p).is_file() for p in res.stdout.split())


@pytest.mark.parametrize("fmt", ["html", "md,pdf", ""])
def test_report_accepts_only_the_formats_it_writes(pickle_runs, fmt):
    one_line_error(report(pickle_runs, "--suite", "mini.pkl-xsub", "--profile", "smoke",
                          "--format", fmt), f"--format {fmt!r}: expected one or more of md, tex, json, csv")


def test_odd_class_names_stay_inside_their_markdown_cells(pickle_runs):
    res = report(pickle_runs, "--suite", "mini.pkl-xsub", "--profile", "smoke", "--format", "md")
    text = (pickle_runs / res.stdout.strip()).read_text()
    rows = [line for line in text.splitlines() if "wave" in line or "clap" in line]
    assert rows and all(line.startswith("|") and line.endswith("|") for line in rows)
    assert any("wave\\|hand" in line for line in rows)
    assert any("clap hands" in line for line in rows)
    assert markdown_table(["a|b"], [["x\ny"]]).splitlines()[2] == "| x y    |"


def test_exported_pickles_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_pose_pickle(tmp_path / "export.pkl", kinect_pose_data(), KINECT20)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_data_check_on_a_file_says_it_expects_a_folder(tmp_path):
    afile = tmp_path / "x.pkl"
    afile.write_bytes(b"")
    one_line_error(bench("data", "check", afile, cache=tmp_path / "c"),
                   f"{afile} is a file; bench data check expects the folder")


@pytest.mark.parametrize("value", ["/etc/passwd", "../../evil.py", "stgcn_smoke.py/../../x.py"])
def test_set_config_outside_baselines_needs_a_flag(tmp_path, value):
    args = ["run", "--suite", "mini-xsub", "--data", "synthetic", "--methods", "stgcn",
            "--profile", "smoke", "--out", tmp_path / "out", "--dry-run", "--set",
            f"config={value}"]
    one_line_error(bench(*args, cache=tmp_path / "c"),
                   f"--set config={value}: not a file under", "--allow-any-config")
    res = bench(*args, "--allow-any-config", cache=tmp_path / "c")
    assert res.returncode == 0, res.stderr[-2000:]


def test_set_config_under_baselines_is_accepted(tmp_path):
    from bench.paths import content_dir

    shipped = sorted(p.name for p in content_dir("baselines").glob("*.py"))[0]
    res = bench("run", "--suite", "mini-xsub", "--data", "synthetic", "--methods", "stgcn",
                "--profile", "smoke", "--out", tmp_path / "out", "--dry-run", "--set",
                f"config={shipped}", cache=tmp_path / "c")
    assert res.returncode == 0, res.stderr[-2000:]
    assert Path(content_dir("baselines") / shipped).is_file()
