"""Annotation fields beyond keypoints (img_shape, original_shape, ...) survive reading, the prepared
cache, the bundle and `--to pkl` export exactly; the 2D GCN path normalises each sample by its own
img_shape; the source-hash memo notices a rewrite whose size and mtime were put back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest

from bench.data import prepared
from bench.data.pose import annotation_extras
from bench.data.pose.annotation_extras import check_keepable, decode, encode
from bench.data.layouts import COCO17
from bench.data.pose.pkl_io import PoseData, read_pose_pickle, write_pose_pickle
from bench.data.datasets import choose_data, load_bundle, resolve_source
from bench.errors import DataError

SHAPES = [(1080, 1920), (480, 640), (720, 1280), (360, 480), (1080, 1440), (240, 320)]


def _assert_same(a, b):
    """Equal value, same type, arrays with the same dtype, all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a == b
    else:
        assert a == b


def test_plain_values_encode_exactly_and_others_are_refused():
    values = [None, True, 3, -2 ** 70, 0.1, float("inf"), "x", b"\x00\xff", 1 + 2j,
              (1, (2.5, "a")), [1, [2, (3,)]], {"a": 1, 2: (3, 4), (5, 6): None}, {1, 2},
              frozenset({"a"}), np.float32(1.5), np.int16(-3), np.bool_(True),
              np.arange(6, dtype=np.float16).reshape(2, 3), np.array(["ab", "c"]),
              np.zeros((0, 4), np.int64), np.asfortranarray(np.eye(3))]
    for value in values:
        back = decode(json.loads(json.dumps(encode(value))))
        if isinstance(value, (set, frozenset)):
            assert back == value and type(back) is type(value)
        else:
            _assert_same(value, back)
    for bad, what in [(OrderedDict(a=1), "OrderedDict"), (slice(1, 2), "slice"),
                      (np.array([object()], dtype=object), "dtype object"),
                      (np.zeros(300_000), "2400000 bytes"), ([1, {"k": range(3)}], "range")]:
        with pytest.raises(DataError, match=rf"^f\.pkl: annotations\[0\]\.meta: .*{what}.* "
                                            r"cannot be kept for the round trip"):
            check_keepable(bad, "f.pkl: annotations[0].meta")


def _coco_data() -> PoseData:
    """Six 2D coco17 samples with a different img_shape each, float16 keypoints as PYSKL's HRNet
    files hold them, a second body absent throughout in one sample, and fields some lack."""
    rng = np.random.default_rng(7)
    anns = []
    for k, (h, w) in enumerate(SHAPES):
        t, m = 8 + k, 1 + k % 2
        kp = rng.uniform(0, 1, size=(m, t, 17, 2)) * np.array([w, h])
        ann = {"frame_dir": f"a{k % 2 + 1:02d}_s{k % 3 + 1:02d}_t{k:02d}", "label": k % 2,
               "img_shape": (h, w), "original_shape": (2 * h, 2 * w), "total_frames": t,
               "keypoint": kp.astype(np.float16),
               "keypoint_score": rng.uniform(0.1, 1, size=(m, t, 17)).astype(np.float16)}
        if k == 3:
            ann["keypoint"][1] = 0  # a body the estimator never found
            ann["keypoint_score"][1] = 0
        if k % 3 == 0:
            ann["box"] = {"xyxy": rng.uniform(size=(t, 4)).astype(np.float32), "id": k}
        anns.append(ann)
    ids = [a["frame_dir"] for a in anns]
    return PoseData({"xsub_train": ids[::2], "xsub_val": ids[1::2]}, anns, ["sit", "stand"],
                    {"version": (1, 2)})


def _source(path):
    return resolve_source(*choose_data(None, None, str(path), "coco17", "xsub"))


def test_coco17_round_trip_through_prepare_keeps_every_field(tmp_path):
    data = _coco_data()
    path = write_pose_pickle(tmp_path / "hrnet.pkl", data, COCO17)
    res = subprocess.run([sys.executable, "-m", "bench", "data", "prepare", str(path),
                          "--layout", "coco17", "--to", "pkl", str(tmp_path / "back.pkl")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    back = read_pose_pickle(tmp_path / "back.pkl", COCO17)
    assert back.split == data.split and back.class_names == data.class_names
    _assert_same(back.extra, data.extra)
    assert len(back.annotations) == len(data.annotations)
    for a, b in zip(data.annotations, back.annotations):
        assert set(a) == set(b)
        for key in a:
            _assert_same(a[key], b[key])
    # compact: img_shape and original_shape are (N, 2) int arrays, not JSON values per sample
    source = _source(path)
    stored = json.loads((source.prepared / annotation_extras.EXTRAS_FILE).read_text())
    kinds = {decode(c["field"]): "int_tuples" in c for c in stored["fields"]}
    assert kinds == {"img_shape": True, "original_shape": True, "box": False}
    # the bundle: each sample's own fields, aligned through subset and train+val merging
    bundle = load_bundle(source)
    by_id = {a["frame_dir"]: a for a in data.annotations}
    merged = bundle.with_val_in_train()
    for subset in (bundle.train, bundle.val, bundle.test, merged.train, bundle.test.subset([1])):
        assert len(subset.extras) == len(subset)
        for sid, extras in zip(subset.sample_ids, subset.extras):
            assert extras["img_shape"] == by_id[sid]["img_shape"]
            assert ("box" in extras) == ("box" in by_id[sid])


@pytest.mark.parametrize("field, value, message", [
    ("tracker", OrderedDict(a=1), r"tracker: a value of type OrderedDict cannot be kept"),
    ("img_shape", (1080, 1920, 3), r"img_shape: expected \(height, width\), two positive "
                                   r"integers, got \(1080, 1920, 3\)"),
    ("original_shape", ("1080", 1920), r"original_shape: expected \(height, width\)"),
])
def test_bad_extra_fields_are_refused_naming_the_field(tmp_path, field, value, message):
    data = _coco_data()
    data.annotations[4][field] = value
    with pytest.raises(DataError, match=r"^\S*coco\.pkl: annotations\[4\]\." + message):
        write_pose_pickle(tmp_path / "coco.pkl", data, COCO17)
    assert not list(tmp_path.iterdir())  # nothing written


def test_gcn_normalises_each_2d_sample_by_its_own_img_shape(tmp_path):
    from mmaction.datasets.transforms.pose_transforms import PreNormalize2D
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from bench.methods.gcn_zoo import STGCN
    from bench.methods.mmaction_setup import import_mmaction

    data = _coco_data()
    del data.annotations[1]["img_shape"]  # this one falls back to 1080p
    bundle = load_bundle(_source(write_pose_pickle(tmp_path / "hrnet.pkl", data, COCO17)))
    method = STGCN(STGCN.default_config("smoke"), profile="smoke", seed=0,
                   workdir=tmp_path / "work", cache_dir=tmp_path / "cache")
    mm = import_mmaction()
    cfg = method.build_config(mm, bundle, method._annotation_file(bundle))
    spec = cfg.test_dataloader.dataset.to_dict()
    types = [step["type"] for step in spec["pipeline"]]
    spec["pipeline"] = spec["pipeline"][:types.index("PreNormalize2D") + 1]  # the recipe's steps
    init_default_scope("mmaction")
    dataset = DATASETS.build(spec)
    by_id = {a["frame_dir"]: a for a in data.annotations}
    assert len(dataset) == len(bundle.test) == 3
    for i in range(len(dataset)):
        out = dataset[i]
        source = by_id[out["frame_dir"]]
        got = out["keypoint"]  # (M, T, V, 3): x, y, score; bodies absent throughout dropped
        m = got.shape[0]
        assert not source["keypoint"][m:].any()
        xy = source["keypoint"][:m].astype(np.float32)
        # what MMAction2's PreNormalize2D makes of the source keypoints with that img_shape
        shape = source.get("img_shape", (1080, 1920))
        want = PreNormalize2D(img_shape=(1080, 1920)).transform(
            {"keypoint": xy.copy(), **({"img_shape": shape} if "img_shape" in source else {})})
        np.testing.assert_allclose(got[..., :2], want["keypoint"], atol=1e-6)
        np.testing.assert_allclose(got[..., 2], source["keypoint_score"][:m].astype(np.float32))
        if "img_shape" in source:  # spread over its own frame, [-1, 1]: not 1080p's
            assert 0.8 < got[..., 0].max() <= 1 and 0.8 < got[..., 1].max() <= 1


def test_pose2d_for_posec3d_keeps_the_samples_frame_size():
    from bench.methods.mmaction_setup import import_mmaction

    build = import_mmaction().TRANSFORMS.build
    kp = np.random.default_rng(0).uniform(1, 300, size=(1, 5, 17, 3)).astype(np.float32)
    step = build(dict(type="SkeletonToPose2D", layout="coco17"))
    own = step.transform({"keypoint": kp.copy(), "img_shape": (480, 640)})
    assert own["img_shape"] == own["original_shape"] == (480, 640)
    assert step.transform({"keypoint": kp.copy()})["img_shape"] != (480, 640)


# ---- (size, mtime, ctime, inode) memo of source hashes -----------------------------------------

def test_rewrite_with_restored_size_and_mtime_is_hashed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(prepared, "RACY_SECONDS", 0.0)  # memoise even a file written just now
    path = tmp_path / "data.pkl"
    path.write_bytes(b"first version")
    before = os.stat(path)
    (first,) = prepared.file_digests([path])
    with open(path, "r+b") as f:  # same inode, same size
        f.write(b"FIRST")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    while os.stat(path).st_ctime_ns == before.st_ctime_ns:  # a coarse clock: next tick
        time.sleep(0.002)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (before.st_size, before.st_mtime_ns, before.st_ino)
    (second,) = prepared.file_digests([path])
    assert second == prepared.file_sha256(path) != first
    assert prepared.file_digests([path]) == [second]  # and memoised again


def test_a_file_changed_just_now_is_not_memoised(tmp_path, monkeypatch):
    path = tmp_path / "fresh.pkl"
    path.write_bytes(b"abc")
    calls = []
    real = prepared.file_sha256
    monkeypatch.setattr(prepared, "file_sha256", lambda p: calls.append(p) or real(p))
    prepared.file_digests([path])
    prepared.file_digests([path])
    assert len(calls) == 2  # racy: its stamp may not change on a write in the same tick
    later = time.time() + 2 * prepared.RACY_SECONDS
    monkeypatch.setattr(prepared, "time", SimpleNamespace(time=time.time,
                                                          time_ns=lambda: int(later * 1e9)))
    prepared.file_digests([path])
    prepared.file_digests([path])
    assert len(calls) == 3
