"""The MMAction2/PYSKL annotation pickle: data-only unpickling, validation errors, exact round trip,
atomic writes."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from bench.data.pose import pkl_io
from bench.data.layouts import COCO17, KINECT20, NTU25
from bench.data.pose.pkl_io import (PoseData, clip_annotation, load_data_pickle, read_pose_pickle,
                               write_pose_pickle)
from bench.errors import DataError


def _ann(name, label, m=1, t=12, v=20, c=3, seed=0):
    rng = np.random.default_rng(seed)
    ann = {"frame_dir": name, "label": label, "total_frames": t,
           "keypoint": rng.normal(size=(m, t, v, c)).astype(np.float32)}
    if c == 2:
        ann["keypoint_score"] = rng.uniform(size=(m, t, v)).astype(np.float32)
        ann["img_shape"] = (1080, 1920)
    return ann


def _data(v=20, c=3):
    anns = [_ann(f"a{i:02d}_s{s:02d}_t01", i % 3, m=1 + (i % 2), t=10 + i, v=v, c=c, seed=i)
            for i, s in enumerate((1, 2, 3, 4, 1, 2))]
    split = {"xsub_train": [a["frame_dir"] for a in anns if int(a["frame_dir"][5:7]) % 2],
             "xsub_val": [a["frame_dir"] for a in anns if not int(a["frame_dir"][5:7]) % 2]}
    return PoseData(split, anns, ["wave", "clap", "kick"])


def _same(a: PoseData, b: PoseData):
    assert a.split == b.split and a.class_names == b.class_names
    assert len(a.annotations) == len(b.annotations)
    for x, y in zip(a.annotations, b.annotations):
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(x[key], np.ndarray):
                assert x[key].dtype == y[key].dtype and np.array_equal(x[key], y[key])
            else:
                assert x[key] == y[key] and type(x[key]) is type(y[key])


@pytest.mark.parametrize("layout, c", [(KINECT20, 3), (COCO17, 2)])
def test_round_trip_is_exact(tmp_path, layout, c):
    data = _data(v=layout.num_joints, c=c)
    path = write_pose_pickle(tmp_path / "d.pkl", data, layout)
    back = read_pose_pickle(path, layout)
    _same(data, back)
    assert back.protocols() == ["xsub"] and back.num_classes == 3
    # the file is the plain format: a standard unpickler sees exactly the documented keys
    with open(path, "rb") as f:
        assert set(pickle.load(f)) == {"split", "annotations", "class_names"}


def test_numpy_pickles_of_any_protocol_and_both_numpy_module_names_load(tmp_path):
    obj = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "s": np.float64(2.5),
           "l": np.int64(7), "t": (1, "x", None, True), "set": {1, 2}, "b": b"\x00\x01"}
    for protocol in (2, 4, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        back = load_data_pickle(path)
        assert np.array_equal(back["a"], obj["a"]) and back["a"].dtype == np.int16
        assert back["s"] == 2.5 and back["l"] == 7 and back["set"] == {1, 2}
    # numpy 1.x writes numpy.core.multiarray, numpy 2.x numpy._core.multiarray (protocol 2
    # names globals as text lines, so the module can be swapped in place)
    raw = pickle.dumps(obj, protocol=2)
    for old, new in ((b"numpy._core.multiarray", b"numpy.core.multiarray"),
                     (b"numpy.core.multiarray", b"numpy._core.multiarray")):
        swapped = raw.replace(old, new)
        path = tmp_path / "swapped.pkl"
        path.write_bytes(swapped)
        assert (new in swapped) and np.array_equal(load_data_pickle(path)["a"], obj["a"])


class _CreatesFile:
    """Unpickling this calls open(sentinel, 'w'), which would create the file."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return open, (self.sentinel, "w")


class _RunsShell:
    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


@pytest.mark.parametrize("payload, refused", [(_CreatesFile, "io.open"),
                                              (_RunsShell, "posix.system")])
def test_code_in_a_pickle_is_refused_and_never_run(tmp_path, payload, refused):
    sentinel = tmp_path / "sentinel"
    data = _data().to_pickle_obj()
    data["annotations"][2]["img_shape"] = payload(sentinel)  # hidden deep inside valid data
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    with pytest.raises(DataError) as err:
        read_pose_pickle(path)
    msg = str(err.value)
    assert str(path) in msg and refused in msg and "\n" not in msg
    assert not sentinel.exists()
    # positive control: a plain unpickler does run the payload
    made = pickle.loads(path.read_bytes())["annotations"][2]["img_shape"]
    getattr(made, "close", lambda: None)()
    assert sentinel.exists()


def _write_obj(tmp_path, obj):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def _mutated(change):
    obj = _data().to_pickle_obj()
    change(obj)
    return obj


@pytest.mark.parametrize("change, layout, message", [
    (lambda o: o.pop("split"), KINECT20, "missing top-level key 'split'"),
    (lambda o: o["annotations"][3].pop("keypoint"), KINECT20,
     "annotations[3]: missing field 'keypoint'"),
    (lambda o: o["annotations"][3].update(keypoint=np.zeros((2, 40, 25, 3), np.float32),
                                          total_frames=40), KINECT20,
     "annotations[3].keypoint: expected (M, T, 20, 3) for layout kinect20, got (2, 40, 25, 3)"),
    (lambda o: None, NTU25, "annotations[0].keypoint: expected (M, T, 25, 3) for layout ntu25"),
    (lambda o: o["annotations"][1].update(label=1.0), KINECT20,
     "annotations[1].label: expected a non-negative integer class index, got 1.0 (float)"),
    (lambda o: o["annotations"][1].update(label=True), KINECT20, "annotations[1].label"),
    (lambda o: o["annotations"][1].update(label=5), KINECT20,
     "annotations[1].label: 5 is out of range for 3 class_names"),
    (lambda o: o["split"]["xsub_val"].append("nope"), KINECT20,
     "split['xsub_val'][3]: 'nope' is not the frame_dir of any annotation"),
    (lambda o: o["annotations"][2].update(total_frames=99), KINECT20,
     "annotations[2].total_frames: expected 12 (keypoint's T), got 99"),
    (lambda o: o["annotations"][2].update(frame_dir=o["annotations"][0]["frame_dir"]), KINECT20,
     "annotations[2].frame_dir 'a00_s01_t01' appears twice"),
    (lambda o: o["annotations"][0]["keypoint"].__setitem__((0, 0, 0, 0), np.nan), KINECT20,
     "annotations[0].keypoint: holds NaN"),
])
def test_bad_content_gets_one_line_naming_the_field(tmp_path, change, layout, message):
    path = _write_obj(tmp_path, _mutated(change))
    with pytest.raises(DataError) as err:
        read_pose_pickle(path, layout)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_2d_keypoints_need_scores_and_unreadable_files_are_named(tmp_path):
    data = _data(v=17, c=2)
    del data.annotations[0]["keypoint_score"]
    with pytest.raises(DataError, match=r"annotations\[0\]: 2D keypoint without 'keypoint_score'"):
        read_pose_pickle(_write_obj(tmp_path, data.to_pickle_obj()), COCO17)
    good = write_pose_pickle(tmp_path / "good.pkl", _data())
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(DataError, match="truncated.pkl: not a readable pickle"):
        read_pose_pickle(truncated)
    with pytest.raises(DataError, match="expected a dict with keys 'split' and 'annotations'"):
        read_pose_pickle(_write_obj(tmp_path, [1, 2]))


def test_writer_is_atomic_and_validates_first(tmp_path, monkeypatch):
    target = tmp_path / "out.pkl"
    target.write_bytes(b"previous")
    bad = _data()
    bad.annotations[0]["label"] = -1
    with pytest.raises(DataError):
        write_pose_pickle(target, bad)

    def dump_then_fail(obj, f, protocol):
        f.write(b"\x80\x04partial")
        raise OSError("disk full")

    monkeypatch.setattr(pkl_io.pickle, "dump", dump_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_pose_pickle(target, _data())
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pkl"]


def test_clip_annotation_drops_padding_and_absent_bodies_and_splits_scores():
    clip = np.zeros((2, 30, 17, 3), np.float32)
    clip[0, :20] = np.random.default_rng(0).uniform(0.1, 1, size=(20, 17, 3))
    ann = clip_annotation("x", clip, 20, 4, COCO17)
    assert ann["keypoint"].shape == (1, 20, 17, 2) and ann["keypoint_score"].shape == (1, 20, 17)
    assert ann["total_frames"] == 20 and ann["label"] == 4
    assert np.array_equal(pkl_io.channels3(ann), clip[:1, :20])
