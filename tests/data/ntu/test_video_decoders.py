"""The PyAV path of bench.data.ntu.rgb (used where decord is not installed: no wheels off x86-64)
reads the same frames as the decord path, and fails with the same one-line errors."""
import sys

import numpy as np
import pytest

from bench.data.ntu.rgb import probe_video, read_frames, uniform_indices, video_decoder
from bench.data.synthetic.render import write_video
from bench.errors import DataError

SAMPLE = "S001C001P001R001A001"


@pytest.fixture
def no_decord(monkeypatch):
    """`import decord` fails, as on a machine without its wheel."""
    monkeypatch.setitem(sys.modules, "decord", None)
    assert video_decoder() == "pyav"


@pytest.fixture
def clip() -> np.ndarray:
    """A small moving pattern (T, H, W, 3): a gradient, a bright square walking across."""
    t, h, w = 12, 48, 64
    yy, xx = np.mgrid[:h, :w]
    frames = np.empty((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i, ..., 0] = (xx * 4 + i * 9) % 256
        frames[i, ..., 1] = yy * 5
        frames[i, ..., 2] = 40
        frames[i, 10:26, 4 * i:4 * i + 16] = (250, 250, 30)
    return frames


@pytest.fixture
def clip_video(tmp_path, clip):
    """The clip as the tests' lossless FFV1 AVI (cv2's VideoWriter, as rendered RGB sets are)."""
    return write_video(tmp_path / f"{SAMPLE}_rgb.avi", clip, fps=30)


def _decode_both(monkeypatch, path, indices, size=None):
    """(decord frames, PyAV frames, decord probe, PyAV probe) of one video."""
    pytest.importorskip("decord")
    assert video_decoder() == "decord"
    by_decord = read_frames(path, indices, size=size), probe_video(path)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "decord", None)
        assert video_decoder() == "pyav"
        by_pyav = read_frames(path, indices, size=size), probe_video(path)
    return by_decord[0], by_pyav[0], by_decord[1], by_pyav[1]


def test_pyav_reads_the_lossless_clip_exactly(no_decord, clip_video, clip):
    info = probe_video(clip_video)
    assert (info.num_frames, info.width, info.height, info.fps) == (12, 64, 48, 30.0)
    inds = [11, 0, 5, 5, 7]  # any order, repeats allowed
    np.testing.assert_array_equal(read_frames(clip_video, inds), clip[inds])
    small = read_frames(clip_video, [3], size=(32, 24))
    assert small.shape == (1, 24, 32, 3) and small.dtype == np.uint8
    half = clip[3].reshape(24, 2, 32, 2, 3).mean((1, 3))  # the decoder's resize shows the picture
    assert np.abs(small[0] - half).mean() < 6


def test_pyav_and_decord_agree_on_the_rendered_clip(monkeypatch, clip_video):
    inds = [0, 4, 11]
    decord_frames, pyav_frames, decord_info, pyav_info = _decode_both(monkeypatch, clip_video,
                                                                      inds)
    assert pyav_info == decord_info
    np.testing.assert_array_equal(pyav_frames, decord_frames)  # lossless: bit for bit
    decord_small, pyav_small, _, _ = _decode_both(monkeypatch, clip_video, inds, size=(32, 24))
    assert pyav_small.shape == decord_small.shape == (3, 24, 32, 3)
    assert np.abs(pyav_small.astype(int) - decord_small).mean() < 2


def test_pyav_and_decord_agree_on_the_real_ntu_video(monkeypatch, shared_data):
    path = shared_data / "ntu-sample" / f"{SAMPLE}_rgb.avi"
    inds = uniform_indices(103, 4)
    decord_frames, pyav_frames, decord_info, pyav_info = _decode_both(monkeypatch, path, inds,
                                                                      size=(192, 108))
    assert pyav_info == decord_info and pyav_info.num_frames == 103
    assert pyav_frames.shape == decord_frames.shape == (4, 108, 192, 3)
    assert pyav_frames.std() > 10  # real picture content
    assert np.abs(pyav_frames.astype(int) - decord_frames).mean() < 2  # h264, one grey level


def test_pyav_bad_videos_are_one_line_errors_naming_the_file(no_decord, tmp_path, clip_video):
    def fails(match, call, *args):
        with pytest.raises(DataError, match=match) as err:
            call(*args)
        assert str(args[0]) in str(err.value) and "\n" not in str(err.value)

    fails("not found", probe_video, tmp_path / f"{SAMPLE[:-1]}2_rgb.avi")
    (tmp_path / "empty_rgb.avi").write_bytes(b"")
    fails("empty", probe_video, tmp_path / "empty_rgb.avi")
    (tmp_path / "garbage_rgb.avi").write_bytes(np.random.default_rng(0).bytes(4096))
    fails("cannot be decoded", read_frames, tmp_path / "garbage_rgb.avi", [0])
    fails("has 12 frames; asked for frame 12", read_frames, clip_video, [0, 12])
    truncated = tmp_path / "truncated_rgb.avi"
    truncated.write_bytes(clip_video.read_bytes()[:len(clip_video.read_bytes()) // 2])
    fails("truncated", probe_video, truncated)
