"""NTU RGB video reader: the real sample, frame sampling (against MMAction2's), bad videos."""
import numpy as np
import pytest

from bench.data.ntu.rgb import (
    clip_indices, find_rgb_videos, probe_video, read_frames, uniform_indices,
)
from bench.errors import DataError

SAMPLE = "S001C001P001R001A001"


@pytest.fixture
def sample_video(shared_data):
    return shared_data / "ntu-sample" / f"{SAMPLE}_rgb.avi"


def test_real_video_matches_its_skeleton(sample_video):
    from bench.data.ntu.skeleton import parse_skeleton_file

    info = probe_video(sample_video)
    skeleton = parse_skeleton_file(sample_video.with_name(f"{SAMPLE}.skeleton"))
    assert info.num_frames == skeleton.num_frames == 103
    assert (info.width, info.height, info.fps) == (1920, 1080, 30.0)

    inds = uniform_indices(info.num_frames, 4)
    frames = read_frames(sample_video, inds, size=(192, 108))
    assert frames.shape == (4, 108, 192, 3) and frames.dtype == np.uint8
    assert frames.std() > 10  # real picture content, not a blank decode
    np.testing.assert_array_equal(read_frames(sample_video, inds, size=(192, 108)), frames)
    # the decoder's resize shows the same picture as a full decode resized afterwards
    import cv2
    full = read_frames(sample_video, inds[:1])[0]
    assert full.shape == (1080, 1920, 3)
    small = cv2.resize(full, (192, 108), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(small - frames[0]).mean() < 12


def test_find_rgb_videos_walks_nested_folders(shared_data, tmp_path):
    found = find_rgb_videos(shared_data / "ntu-sample")
    assert list(found) == [SAMPLE]
    (tmp_path / "a" / "b").mkdir(parents=True)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        (folder / f"{SAMPLE}_rgb.avi").write_bytes(b"x")
    with pytest.raises(DataError, match="appears twice"):
        find_rgb_videos(tmp_path)


@pytest.mark.parametrize("num_frames", [1, 5, 31, 103])
@pytest.mark.parametrize("clip_len,interval,clips", [(1, 1, 3), (1, 1, 25), (8, 4, 1),
                                                     (4, 16, 10), (32, 2, 2)])
def test_test_mode_sampling_is_mmaction2_samplefames(num_frames, clip_len, interval, clips):
    from mmaction.datasets.transforms.loading import SampleFrames

    theirs = SampleFrames(clip_len, interval, clips, test_mode=True).transform(
        {"total_frames": num_frames, "start_index": 0})["frame_inds"]
    ours = clip_indices(num_frames, clip_len, interval, clips, test_mode=True)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(clip_indices(num_frames, clip_len, interval, clips), ours)


def test_training_sampling_is_seeded_in_range_and_spread():
    a = clip_indices(103, 4, 16, 2, test_mode=False, rng=np.random.default_rng(1))
    b = clip_indices(103, 4, 16, 2, test_mode=False, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (8,) and a.min() >= 0 and a.max() < 103
    assert (np.diff(a.reshape(2, 4), axis=1) == 16).all()  # frame_interval apart within a clip
    draws = {tuple(uniform_indices(30, 3, test_mode=False, rng=np.random.default_rng(s)))
             for s in range(40)}
    assert len(draws) > 10  # training draws vary ...
    for inds in draws:  # ... but each frame stays inside its own segment
        assert [i // 10 for i in inds] == [0, 1, 2]
    assert uniform_indices(30, 3).tolist() == [5, 15, 25]  # test mode: segment centres
    assert uniform_indices(2, 4, test_mode=False, rng=np.random.default_rng(0)).max() <= 1
    with pytest.raises(DataError, match="clip_len"):
        clip_indices(10, 0)


def test_bad_videos_are_one_line_errors(tmp_path, sample_video):
    with pytest.raises(DataError, match="not found"):
        probe_video(tmp_path / f"{SAMPLE}_rgb.avi")
    empty = tmp_path / "empty_rgb.avi"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        probe_video(empty)
    garbage = tmp_path / "garbage_rgb.avi"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DataError, match="cannot be decoded"):
        read_frames(garbage, [0])
    truncated = tmp_path / "truncated_rgb.avi"
    truncated.write_bytes(sample_video.read_bytes()[:20000])
    with pytest.raises(DataError, match="truncated") as err:
        probe_video(truncated)
    assert str(truncated) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DataError, match="has 103 frames"):
        read_frames(sample_video, [0, 103])
