"""Skeleton -> RGB renderer: Kinect colour projection, camera views, locality, storage."""
import numpy as np
import pytest

from bench.data.ntu.rgb import probe_video, read_frames
from bench.data.synthetic.render import (
    BACKGROUND, KINECT_COLOR, render_clip, render_videos, square_view, write_video,
)


def test_projection_reproduces_the_real_colour_coordinates(shared_data):
    """The pinhole puts joints where the real file's colorX/colorY columns say they are."""
    from bench.data.ntu.skeleton import parse_skeleton_file

    skeleton = parse_skeleton_file(shared_data / "ntu-sample" / "S001C001P001R001A001.skeleton")
    joints = np.concatenate([b.joints for b in skeleton.bodies])
    error = np.linalg.norm(KINECT_COLOR.project(joints[..., :3]) - joints[..., 5:7], axis=-1)
    assert np.median(error) < 2.0 and error.max() < 8.0  # pixels of a 1920x1080 frame


@pytest.fixture(scope="module")
def three_views(tmp_path_factory):
    """One synthetic performance (A023, hand waving) filmed by cameras 1, 2 and 3."""
    from bench.data.ntu.loader import find_skeleton_files, load_ntu_arrays
    from bench.data.synthetic.generator import generate_ntu

    root = generate_ntu(tmp_path_factory.mktemp("syn") / "ntu", actions=[23], performers=[1],
                        replications=[1])
    files = find_skeleton_files(root)
    assert [name[4:8] for name in files] == ["C001", "C002", "C003"]
    keypoint, num_frames, _ = load_ntu_arrays(list(files.values()))
    return keypoint, num_frames


def test_cameras_see_different_views_of_one_performance(three_views):
    keypoint, num_frames = three_views
    t = int(num_frames.min()) // 2
    clips = [render_clip(keypoint[c], num_frames[c], size=64) for c in range(3)]
    assert all(clip.shape == (num_frames[c], 64, 64, 3) and clip.dtype == np.uint8
               for c, clip in enumerate(clips))
    figure = [(clip[t] != BACKGROUND).any(-1) for clip in clips]
    sizes = [mask.sum() for mask in figure]
    assert min(sizes) > 60 and max(sizes) < 0.5 * 64 * 64  # a figure, not a blank or a blot
    for a, b in ((0, 1), (0, 2), (1, 2)):
        overlap = (figure[a] & figure[b]).sum() / (figure[a] | figure[b]).sum()
        assert overlap < 0.8, (a, b, overlap)  # same pose, different picture
    # deterministic: the same clip renders to the same bytes
    np.testing.assert_array_equal(render_clip(keypoint[1], num_frames[1], size=64), clips[1])


def test_a_moving_arm_changes_pixels_only_where_the_arm_is():
    from bench.data.layouts import NTU25

    rest = _standing_figure()
    keypoint = np.zeros((2, 2, 25, 3))
    keypoint[0, :] = rest
    arm = list(NTU25.parts["right arm"])
    moved = rest.copy()
    moved[arm[1:]] += np.array([0.0, 0.35, -0.1])  # elbow, wrist and hand go up
    keypoint[0, 1] = moved
    frames = render_clip(keypoint, 2, size=96).astype(int)
    changed = np.abs(frames[1] - frames[0]).sum(-1) > 0
    assert changed.sum() > 20
    view = square_view(KINECT_COLOR, 96)
    arm_uv = np.concatenate([view.project(rest[arm]), view.project(moved[arm])])
    (u0, v0), (u1, v1) = arm_uv.min(0) - 4, arm_uv.max(0) + 4
    rows, cols = np.nonzero(changed)
    assert (cols >= u0).all() and (cols <= u1).all() and (rows >= v0).all() and (rows <= v1).all()
    still = frames[0][~changed]
    assert (still != BACKGROUND).any(-1).sum() > 100  # the rest of the figure is still drawn


def test_clips_round_trip_through_lossless_video(tmp_path, three_views):
    keypoint, num_frames = three_views
    clip = render_clip(keypoint[0], num_frames[0], size=48)  # decord fails on 48x48 FFV1: cv2 reads
    path = write_video(tmp_path / "S001C001P001R001A023_rgb.avi", clip, fps=30)
    info = probe_video(path)
    assert (info.num_frames, info.width, info.height) == (len(clip), 48, 48)
    np.testing.assert_array_equal(read_frames(path, [0, 7, len(clip) - 1]),
                                  clip[[0, 7, len(clip) - 1]])
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind

    folder = render_videos([("a", keypoint[0], num_frames[0]), ("b", keypoint[1], 10)],
                           tmp_path / "set", size=32)
    assert sorted(p.name for p in folder.iterdir()) == ["a_rgb.avi", "b_rgb.avi", "done"]
    assert probe_video(folder / "b_rgb.avi").num_frames == 10
    before = (folder / "a_rgb.avi").stat().st_mtime_ns
    render_videos([("a", keypoint[0], num_frames[0])], folder, size=32)  # complete: kept
    assert (folder / "a_rgb.avi").stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="num_frames"):
        render_videos([("c", keypoint[0], 10_000)], tmp_path / "bad", size=32)
    assert not (tmp_path / "bad").exists() and not list(tmp_path.glob(".bad*"))


def _standing_figure() -> np.ndarray:
    """A person 3 m in front of the camera, arms down (NTU-25 order, camera space, metres)."""
    rest = np.array([
        [0, 0, 0], [0, .3, 0], [0, .55, 0], [0, .7, 0], [-.2, .5, 0], [-.25, .25, 0],
        [-.3, 0, 0], [-.3, -.05, 0], [.2, .5, 0], [.25, .25, 0], [.3, 0, 0], [.3, -.05, 0],
        [-.1, 0, 0], [-.1, -.45, 0], [-.1, -.85, 0], [-.1, -.9, .1], [.1, 0, 0], [.1, -.45, 0],
        [.1, -.85, 0], [.1, -.9, .1], [0, .5, 0], [-.3, -.1, 0], [-.28, -.05, .03],
        [.3, -.1, 0], [.28, -.05, .03]])
    return rest + np.array([0.0, 0.0, 3.0])
