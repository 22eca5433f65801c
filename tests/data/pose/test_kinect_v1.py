"""UTD-MHAD and MSR Action3D converters: joint reordering into kinect20 checked on the real data
(bone lengths, left/right symmetry, vertical order), split rule, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from bench.data.pose.kinect_v1 import (MSR_ACTION3D, MSR_TO_KINECT20, UTD_MHAD, convert,
                                  read_msr_action3d, read_utd_mhad, subject_of)
from bench.data.layouts import KINECT20
from bench.errors import DataError

J = {name: i for i, name in enumerate(KINECT20.joints)}
PAIRS = [(("left shoulder", "left elbow"), ("right shoulder", "right elbow")),
         (("left elbow", "left wrist"), ("right elbow", "right wrist")),  # forearms
         (("left hip", "left knee"), ("right hip", "right knee")),
         (("left knee", "left ankle"), ("right knee", "right ankle")),
         (("shoulder centre", "left shoulder"), ("shoulder centre", "right shoulder")),
         (("hip centre", "left hip"), ("hip centre", "right hip"))]


@pytest.fixture(scope="module")
def converted(shared_data):
    """Both datasets converted once for the module."""
    return {ds.name: convert(ds, shared_data / ds.name) for ds in (UTD_MHAD, MSR_ACTION3D)}


def _frames(data):
    return np.concatenate([a["keypoint"][0] for a in data.annotations])  # (sum T, 20, 3)


def _bone(kp, a, b):
    return float(np.median(np.linalg.norm(kp[:, J[a]] - kp[:, J[b]], axis=-1)))


@pytest.mark.parametrize("name, count, train, test", [("utd-mhad", 861, 431, 430),
                                                      ("msr-action3d", 557, 284, 273)])
def test_real_datasets_convert_with_cross_subject_split(converted, name, count, train, test):
    data, skipped = converted[name]
    assert len(data.annotations) == count and skipped == []
    assert (len(data.split["xsub_train"]), len(data.split["xsub_val"])) == (train, test)
    assert all(subject_of(s) % 2 == 1 for s in data.split["xsub_train"])
    assert all(subject_of(s) % 2 == 0 for s in data.split["xsub_val"])
    labels = {a["label"] for a in data.annotations}
    assert labels == set(range(len(data.class_names)))
    for ann in data.annotations[::50]:
        assert ann["keypoint"].shape == (1, ann["total_frames"], 20, 3)
        assert ann["label"] == int(ann["frame_dir"][1:3]) - 1


@pytest.mark.parametrize("name", ["utd-mhad", "msr-action3d"])
def test_reordered_skeletons_are_plausible_bodies(converted, name):
    kp = _frames(converted[name][0])
    for child, parent in KINECT20.bones:  # every bone a plausible length in metres
        length = _bone(kp, KINECT20.joints[child], KINECT20.joints[parent])
        assert 0.04 < length < 0.7, (KINECT20.joints[child], length)
    for left, right in PAIRS:  # left and right limbs agree
        assert _bone(kp, *left) == pytest.approx(_bone(kp, *right), rel=0.05), (left, right)
    height = kp[..., 1].mean(axis=0)  # y is up
    assert height[J["head"]] > height[J["shoulder centre"]] > height[J["spine"]] \
        > height[J["hip centre"]] > height[J["left knee"]] > height[J["left foot"]]
    # the subject's left side is on the same side for both datasets (smaller x here)
    assert kp[:, J["left shoulder"], 0].mean() < kp[:, J["right shoulder"], 0].mean()


def test_msr_order_matches_the_datasets_own_body_model(shared_data):
    import scipy.io

    model = scipy.io.loadmat(str(shared_data / "msr-action3d" / "body_model.mat"))["body_model"][0, 0]
    bones = {frozenset(int(j) for j in pair) for pair in model["bones"]}
    ours = {frozenset((MSR_TO_KINECT20[c] + 1, MSR_TO_KINECT20[p] + 1)) for c, p in KINECT20.bones}
    assert ours == bones
    for field, joint in (("hip_center_index", "hip centre"), ("head_index", "head"),
                         ("left_hip_index", "left hip"), ("right_hip_index", "right hip"),
                         ("left_wrist_index", "left wrist"), ("right_wrist_index", "right wrist"),
                         ("left_ankle_index", "left ankle"), ("right_ankle_index", "right ankle")):
        assert int(model[field][0, 0]) == MSR_TO_KINECT20[J[joint]] + 1, field


def test_bad_kinect_files_get_one_line_errors(tmp_path):
    import scipy.io

    scipy.io.savemat(tmp_path / "a01_s01_t01_skeleton.mat", {"other": np.zeros(3)})
    with pytest.raises(DataError, match=r"a01_s01_t01_skeleton.mat: d_skel: expected a "
                                        r"\(20, 3, T\) array, got None"):
        read_utd_mhad(tmp_path / "a01_s01_t01_skeleton.mat")
    scipy.io.savemat(tmp_path / "a01_s01_t02_skeleton.mat", {"d_skel": np.zeros((25, 3, 4))})
    with pytest.raises(DataError, match=r"got \(25, 3, 4\)"):
        read_utd_mhad(tmp_path / "a01_s01_t02_skeleton.mat")
    (tmp_path / "a01_s01_t03_skeleton.mat").write_bytes(b"not a mat file")
    with pytest.raises(DataError, match="t03_skeleton.mat: not a readable MATLAB file"):
        read_utd_mhad(tmp_path / "a01_s01_t03_skeleton.mat")
    (tmp_path / "a40_s01_t01_skeleton.mat").write_bytes(b"")
    with pytest.raises(DataError, match="action 40 / subject 1 outside UTD-MHAD"):
        convert(UTD_MHAD, tmp_path)

    msr = tmp_path / "msr"
    msr.mkdir()
    with pytest.raises(DataError, match="holds no MSR Action3D skeleton files"):
        convert(MSR_ACTION3D, msr)
    frame = "0.1 0.2 2.5 1.0\n" * 20
    (msr / "a01_s01_e01_skeleton3D.txt").write_text(frame + frame.replace("0.2", "x0.2", 1) + frame)
    with pytest.raises(DataError, match=r"e01_skeleton3D.txt, line 21: non-numeric field"):
        read_msr_action3d(msr / "a01_s01_e01_skeleton3D.txt")
    (msr / "a01_s01_e01_skeleton3D.txt").write_text(frame + "0.1 0.2 2.5 1.0\n")
    with pytest.raises(DataError, match="expected 20 lines of 'x y z confidence' per frame"):
        read_msr_action3d(msr / "a01_s01_e01_skeleton3D.txt")
    # lost tracking: all-zero frames are dropped, a clip with none left is skipped
    (msr / "a01_s01_e01_skeleton3D.txt").write_text("0 0 0 0\n" * 20 + frame)
    (msr / "a02_s02_e01_skeleton3D.txt").write_text("0 0 0 0\n" * 40)
    data, skipped = convert(MSR_ACTION3D, msr)
    assert skipped == ["a02_s02_e01"] and data.annotations[0]["total_frames"] == 1
