"""Long clips: clips are padded to the longest, so preparation refuses one longer than the limit
(10,000 frames by default, $BENCH_MAX_FRAMES otherwise) in one line naming the sample and the
limit, before any padded array is made; within the limit it prepares as before."""
import numpy as np
import pytest

from bench.cli import main
from bench.data.ntu.loader import load_ntu_arrays
from bench.data.pose.pkl_io import PoseData, write_pose_pickle
from bench.data.prepared import MAX_CLIP_FRAMES
from bench.errors import DataError


def pose_pickle(path, long_frames: int):
    """Four short clips and one of `long_frames` frames (NTU names, two subjects per split)."""
    rng = np.random.default_rng(0)
    lengths = {"S001C001P001R001A001": 40, "S001C001P002R001A002": 40,
               "S001C001P003R001A001": 40, "S001C001P004R001A002": long_frames,
               "S001C001P001R001A002": 40}
    anns = [{"frame_dir": name, "label": int(name[-1]) - 1, "total_frames": t,
             "keypoint": rng.normal(size=(1, t, 25, 3)).astype(np.float32)}
            for name, t in lengths.items()]
    names = list(lengths)
    split = {"xsub_train": [n for n in names if n[9:12] in ("001", "002")],
             "xsub_val": [n for n in names if n[9:12] in ("003", "004")]}
    return write_pose_pickle(path, PoseData(split, anns, ["wave", "clap"]))


def prepare(path, capsys):
    code = main(["data", "prepare", str(path), "--layout", "ntu25", "--split", "xsub"])
    return code, capsys.readouterr()


def test_a_clip_over_the_default_limit_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BENCH_MAX_FRAMES", raising=False)
    path = pose_pickle(tmp_path / "long.pkl", MAX_CLIP_FRAMES + 1)
    code, out = prepare(path, capsys)
    assert code == 2 and "Traceback" not in out.err
    assert out.err.strip() == (
        "bench: error: annotations[3]: sample S001C001P004R001A002 has 10,001 frames, more "
        "than the 10,000 allowed (every clip is padded to the longest); trim or drop it, or set "
        "BENCH_MAX_FRAMES to a higher limit")


def test_clips_within_the_limit_prepare_and_the_limit_can_be_raised(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.delenv("BENCH_MAX_FRAMES", raising=False)
    code, out = prepare(pose_pickle(tmp_path / "ok.pkl", MAX_CLIP_FRAMES), capsys)
    assert code == 0, out.err
    monkeypatch.setenv("BENCH_MAX_FRAMES", "20000")
    code, out = prepare(pose_pickle(tmp_path / "long.pkl", MAX_CLIP_FRAMES + 1), capsys)
    assert code == 0, out.err
    monkeypatch.setenv("BENCH_MAX_FRAMES", "lots")
    code, out = prepare(pose_pickle(tmp_path / "other.pkl", 50), capsys)
    assert code == 2 and out.err.strip() == (
        "bench: error: BENCH_MAX_FRAMES='lots': expected a positive number of frames")


def skeleton_text(frames: int) -> str:
    joint = " ".join(["0.1"] * 12)
    body = "72057594037931101 0 1 1 1 1 0 0.02 0.05 2\r\n25\r\n" + (joint + "\r\n") * 25
    return f"{frames}\r\n" + ("1\r\n" + body) * frames


def test_a_long_raw_ntu_clip_is_refused_before_padding(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_MAX_FRAMES", "60")  # the default is 10,000: a 25 MB file
    short, long = tmp_path / "S001C001P001R001A001.skeleton", tmp_path / "S001C001P001R001A002.skeleton"
    short.write_text(skeleton_text(30))
    long.write_text(skeleton_text(61))
    keypoint, num_frames, _ = load_ntu_arrays([short])
    assert keypoint.shape[2] == 30 and num_frames.tolist() == [30]
    with pytest.raises(DataError) as err:
        load_ntu_arrays([short, long])
    assert str(err.value) == (
        f"{long}: sample S001C001P001R001A002 has 61 frames, more than the 60 allowed (every "
        f"clip is padded to the longest); trim or drop it, or set BENCH_MAX_FRAMES to a higher "
        f"limit")
