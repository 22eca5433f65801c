"""Input limits on data files: a few bytes of pickle cannot ask for gigabytes, labels are bounded,
and one odd sample name does not switch the X-Sub validation carve from subjects to samples."""
from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys

import numpy as np
import pytest

from bench.data.ntu.names import parse_sample_name
from bench.data.pose.pkl_io import MAX_CLASSES, PoseData, load_data_pickle, read_pose_pickle
from bench.data.pose.prepare import pose_manifest
from bench.errors import DataError


class _Calls:
    """Unpickles as func(*args): what a hostile file can ask for with a handful of bytes."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


HUGE = 2**33  # 8 GB: more than the limit the loader runs under below
HOSTILE = {
    "bytearray": (_Calls(bytearray, HUGE), "refused to unpickle bytearray(8589934592)"),
    "bytes": (_Calls(bytes, HUGE), "refused to unpickle bytes(8589934592)"),
    "range": (_Calls(list, _Calls(range, HUGE)), "global 'builtins.range'"),
    "ndarray": (_Calls(np.ndarray, (HUGE,)), "refused to unpickle numpy.ndarray(...)"),
    "reconstruct": (_Calls(np.ndarray.__reduce__(np.zeros(1))[0], np.ndarray, (HUGE,), b"b"),
                    "_reconstruct with shape (8589934592,)"),
    "object array": (np.array([1, None], dtype=object), "object arrays are not plain data"),
}

# Loads each file under a 3 GB address-space limit, so a guard that stops working shows up as a
# MemoryError (or a crash) here instead of eating the machine's memory.
_LOADER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from bench.data.pose.pkl_io import load_data_pickle
from bench.errors import DataError
out = {}
for path in sys.argv[1:]:
    try:
        load_data_pickle(path)
        out[path] = "loaded"
    except DataError as exc:
        out[path] = str(exc)
print(json.dumps(out))
"""


def test_a_small_pickle_cannot_allocate_by_argument(tmp_path):
    paths = {}
    for name, (payload, _) in HOSTILE.items():
        paths[name] = tmp_path / f"{name.replace(' ', '_')}.pkl"
        paths[name].write_bytes(pickle.dumps(payload, protocol=2))
        assert paths[name].stat().st_size < 200
    res = subprocess.run([sys.executable, "-c", _LOADER, *map(str, paths.values())],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    messages = json.loads(res.stdout)
    for name, (_, expected) in HOSTILE.items():
        msg = messages[str(paths[name])]
        assert expected in msg and str(paths[name]) in msg and "\n" not in msg, (name, msg)


def test_plain_bytes_and_bytearrays_still_load(tmp_path):
    obj = {"b": b"\x00\x01", "ba": bytearray(b"xy"), "empty": b"", "a": np.arange(3.0)}
    for protocol in (2, 4, 5):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        back = load_data_pickle(path)
        assert back["b"] == b"\x00\x01" and back["ba"] == bytearray(b"xy") and back["empty"] == b""


def _pickle(tmp_path, labels, class_names=None):
    anns = [{"frame_dir": f"c{i}", "label": label, "total_frames": 2,
             "keypoint": np.zeros((1, 2, 20, 3), np.float32)} for i, label in enumerate(labels)]
    obj = PoseData({"x_train": ["c0"], "x_val": ["c1"]}, anns, class_names).to_pickle_obj()
    path = tmp_path / "labels.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def test_labels_are_bounded_without_class_names(tmp_path):
    with pytest.raises(DataError) as err:
        read_pose_pickle(_pickle(tmp_path, [0, 10**18]))
    msg = str(err.value)
    assert "labels.pkl: annotations[1].label: 1000000000000000000 is not below 100,000" in msg
    assert read_pose_pickle(_pickle(tmp_path, [0, MAX_CLASSES - 1])).num_classes == MAX_CLASSES
    with pytest.raises(DataError, match=r"annotations\[1\].label: 2 is out of range for 2"):
        read_pose_pickle(_pickle(tmp_path, [0, 2], ["a", "b"]))


def _ntu(subject: int, n: int) -> str:
    return f"S001C001P{subject:03d}R001A{n:03d}"


def test_one_odd_name_keeps_the_xsub_carve_by_subject(caplog):
    train = [_ntu(p, a) for p in (1, 2, 4, 5, 8, 9, 13, 14, 15, 16) for a in (1, 2, 3)]
    odd = "my_clip_without_a_subject"
    meta = {"split": {"xsub_train": train + [odd], "xsub_val": [_ntu(3, 1)]}}
    with caplog.at_level(logging.WARNING, logger="bench"):
        manifest = pose_manifest(meta, "xsub", "toy", "toy.pkl", val_fraction=0.2)
    assert odd in manifest.train and odd not in manifest.val
    val_subjects = {parse_sample_name(s).performer for s in manifest.val}
    train_subjects = {parse_sample_name(s).performer for s in manifest.train if s != odd}
    assert len(val_subjects) == 2 and not val_subjects & train_subjects  # whole subjects
    (record,) = [r for r in caplog.records if "name no subject" in r.getMessage()]
    assert "1 of 31 xsub_train ids" in record.getMessage() and odd in record.getMessage()


def test_without_any_subject_names_val_is_a_sample_carve(caplog):
    train = [f"clip{i:02d}" for i in range(20)]
    meta = {"split": {"xsub_train": train, "xsub_val": ["other"]}}
    with caplog.at_level(logging.WARNING, logger="bench"):
        manifest = pose_manifest(meta, "xsub", "toy", "toy.pkl", val_fraction=0.2)
    assert len(manifest.val) == 4 and not caplog.records
