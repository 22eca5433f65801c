"""Preparation's peak memory stays within 2x the data's real size (issue 15), for an annotation
pickle and for a folder of raw NTU .skeleton files, and what it writes is the data.

Real size: the float32 bytes of every clip at its own length and body count; the prepared array
is padded to the longest clip (and NTU to two bodies), so it is larger than that, and a
preparation that held it in memory, or mapped it while writing it, would be over. Each
preparation runs in a fresh subprocess (benchmarks/prepare_memory.py, which prints the same for
bigger inputs); peak memory is measured both ways: the rise of the process's peak RSS, which
counts a memmap's written pages, and tracemalloc's peak, which counts numpy's allocations
whether or not their pages were touched."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from bench.data.layouts import NTU25
from bench.data.ntu.loader import clip_frames, find_skeleton_files, load_ntu_arrays
from bench.data.pose.pkl_io import read_pose_pickle
from bench.data.prepared import PaddedArrayFile

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "prepare_memory.py"
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="peak RSS is read from /proc")


@pytest.fixture(scope="module")
def bench_script():
    spec = importlib.util.spec_from_file_location("prepare_memory", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_within_twice(bench_script, route, data, real, cache):
    result = bench_script.measure(route, data, cache)
    # the padded array alone is over 2x: a preparation holding it would fail here
    assert result["stored"] > 2 * real
    for mode in ("rss", "trace"):
        peak = result[mode]["peak"]
        assert peak <= 2 * real, (f"{route} ({mode}): peak {peak / 1e6:.1f} MB for "
                                  f"{real / 1e6:.1f} MB of data ({peak / real:.2f}x)")
    return np.load(result["keypoint"], mmap_mode="r")


def test_preparing_a_pickle_stays_within_twice_its_data(bench_script, tmp_path):
    path = tmp_path / "big.pkl"
    real = bench_script.make_pickle(path, 30)  # 30 MB of keypoints: overheads stay small
    keypoint = assert_within_twice(bench_script, "pickle", path, real, tmp_path / "cache")
    source = read_pose_pickle(path, NTU25).annotations
    assert keypoint.shape[0] == len(source) and keypoint.shape[2] == 300
    for i in (0, 1, len(source) // 2, len(source) - 1):
        m, t = source[i]["keypoint"].shape[:2]
        np.testing.assert_array_equal(keypoint[i, :m, :t], source[i]["keypoint"])
        assert not keypoint[i, m:].any() and not keypoint[i, :, t:].any()


def test_preparing_a_raw_ntu_folder_stays_within_twice_its_data(bench_script, tmp_path):
    root = tmp_path / "ntu"
    real = bench_script.make_ntu(root, 15, templates=8)
    keypoint = assert_within_twice(bench_script, "ntu", root, real, tmp_path / "cache")
    files = list(find_skeleton_files(root).values())
    some = [0, 1, 7, len(files) - 1]
    expected, frames, _ = load_ntu_arrays([files[i] for i in some])
    assert keypoint.shape == (len(files), 2, clip_frames(files).max(), 25, 3)
    for row, i in enumerate(some):
        np.testing.assert_array_equal(keypoint[i, :, :frames[row]], expected[row, :, :frames[row]])
        assert not keypoint[i, :, frames[row]:].any()


def test_the_padded_file_equals_the_padded_array(tmp_path):
    """Clips land at [i, :m, :t]; padding and all-zero bodies stay holes that read as zeros."""
    rng = np.random.default_rng(0)
    clips = [rng.normal(size=(m, t, 25, 3)) for m, t in ((1, 5), (2, 9), (2, 1), (1, 9))]
    clips[1][1] = 0  # a second body absent throughout
    expected = np.zeros((4, 2, 9, 25, 3), np.float32)
    with PaddedArrayFile(tmp_path / "k.npy", expected.shape) as out:
        for i, clip in enumerate(clips):
            out.put(i, clip)  # float64 in: stored as float32, as the array's dtype says
            expected[i, :clip.shape[0], :clip.shape[1]] = clip
    np.testing.assert_array_equal(np.load(tmp_path / "k.npy"), expected)
    with PaddedArrayFile(tmp_path / "k.npy", expected.shape) as out, \
            pytest.raises(ValueError, match="does not fit"):
        out.put(0, np.zeros((1, 10, 25, 3)))
    with PaddedArrayFile(tmp_path / "empty.npy", (0, 2, 0, 25, 3)):
        pass
    assert np.load(tmp_path / "empty.npy").shape == (0, 2, 0, 25, 3)
