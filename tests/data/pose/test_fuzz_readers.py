"""Property-based fuzz of the readers of outside bytes: the annotation pickle reader
(bench.data.pose.pkl_io.read_pose_pickle) and the NTU `.skeleton` parser (the compiled fast path
and the exact path). Inputs are mutations of valid files: truncation, byte flips and splices, huge
length counts, NaN / infinite / overlong numbers, lines dropped, repeated or given a field more
or less, and (pickles) edited structures.

The property: a one-line DataError naming the file, or correct data (pickles: what the format
promises; skeletons: the fast path's result equals the exact path's), never another exception,
and the reader's peak memory never more than 2x the input plus a small constant (skeletons: the
peak traced by tracemalloc; pickles: the process's peak RSS, reset before each read, since the C
unpickler reserves a declared length, unbacked, before reading). Deterministic (derandomize),
no example database."""
import os
import pickle
import pickletools
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.data.layouts import NTU25
from bench.data.ntu.skeleton import parse_skeleton_bytes
from bench.data.pose.pkl_io import MAX_CLASSES, PoseData, read_pose_pickle
from bench.errors import DataError

# BENCH_FUZZ_EXAMPLES=N for a longer hunt; 80 each keeps the file near 30 s on two cores
FUZZ = settings(max_examples=int(os.environ.get("BENCH_FUZZ_EXAMPLES", "80")), deadline=None,
                derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLACK = 4 << 20  # interpreter and allocator noise on top of 2x the input
HUGE = (2**31 - 1, 2**32 - 1, 2**40, 2**62)


# ---- measuring peak memory -----------------------------------------------------------------------

def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _can_reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


PEAK_RSS = _can_reset_peak()  # Linux: writing 5 to clear_refs resets VmHWM (peak RSS)


def peak_growth(fn, *args):
    """(fn's result or its DataError, how far the process's RSS rose above where it started).
    Real memory: the C unpickler reserves a declared length before it reads (untouched pages);
    it misses memory the allocator had kept from earlier calls, which traced_peak sees."""
    if PEAK_RSS:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status("VmRSS:")
    outcome = _outcome(fn, *args)
    return outcome, (_status("VmHWM:") - base if PEAK_RSS else 0)


def traced_peak(fn, *args):
    """(fn's result or its DataError, the peak of what Python and numpy allocated meanwhile)."""
    tracemalloc.start()
    try:
        outcome = _outcome(fn, *args)
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _outcome(fn, *args):
    try:
        return fn(*args)
    except DataError as exc:
        return exc


def assert_one_line(exc: DataError, source: str) -> None:
    text = str(exc)
    assert text.startswith(source) and "\n" not in text, text


# ---- byte mutations (both formats) -------------------------------------------------------------

def truncated(data: bytes):
    return st.integers(0, len(data) - 1).map(lambda n: data[:n])


def flipped(data: bytes):
    flips = st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)),
                     min_size=1, max_size=8)

    def apply(pairs):
        out = bytearray(data)
        for at, mask in pairs:
            out[at] ^= mask
        return bytes(out)
    return flips.map(apply)


def spliced(data: bytes):
    return st.tuples(st.integers(0, len(data)), st.integers(0, 16), st.binary(max_size=16)).map(
        lambda t: data[:t[0]] + t[2] + data[t[0] + t[1]:])


# ---- the annotation pickle ---------------------------------------------------------------------

def valid_pose() -> PoseData:
    """Eight NTU clips (two persons, 150 frames): a 1.4 MB pickle."""
    rng = np.random.default_rng(0)
    anns = [{"frame_dir": f"S001C001P{p:03d}R001A{a:03d}", "label": a - 1, "total_frames": 150,
             "keypoint": rng.normal(size=(2, 150, 25, 3)).astype(np.float32)}
            for p, a in ((1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (4, 1), (4, 2))]
    names = [a["frame_dir"] for a in anns]
    return PoseData({"xsub_train": names[:4], "xsub_val": names[4:]}, anns, ["wave", "clap"])


VALID_POSE = valid_pose()
VALID_PKL = pickle.dumps(VALID_POSE.to_pickle_obj(), protocol=4)


def _length_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of every byte-count argument in the pickle (BINBYTES, BINUNICODE, ...)."""
    fields = []
    for op, _, pos in pickletools.genops(data):
        width = {"<I": 4, "<Q": 8, "B": 1}.get(_COUNT_FORMATS.get(op.name))
        if width:
            fields.append((pos + 1, width))
    return fields


_COUNT_FORMATS = {"BINBYTES": "<I", "BINUNICODE": "<I", "BINBYTES8": "<Q", "BINUNICODE8": "<Q",
                  "BYTEARRAY8": "<Q", "SHORT_BINBYTES": "B", "SHORT_BINUNICODE": "B",
                  "SHORT_BINSTRING": "B", "BINSTRING": "<I"}


def huge_counts(data: bytes):
    """One length field set to a count far beyond the file (the reader must not allocate it)."""
    fields = _length_fields(data)

    def apply(choice):
        (at, width), value = choice
        packed = struct.pack({1: "B", 4: "<I", 8: "<Q"}[width], min(value, 256**width - 1))
        return data[:at] + packed + data[at + width:]
    return st.tuples(st.sampled_from(fields), st.sampled_from(HUGE)).map(apply)


def _edit(obj: dict, edit: tuple) -> dict:
    """One structural change to a copy of the pickle's object."""
    what, i, value = edit
    obj = {**obj, "annotations": [dict(a) for a in obj["annotations"]]}
    ann = obj["annotations"][i % len(obj["annotations"])]
    if what == "field":
        ann[value[0]] = value[1]
    elif what == "drop":
        ann.pop(value, None)
    elif what == "nan":
        kp = ann["keypoint"].copy()
        kp.flat[value % kp.size] = np.nan
        ann["keypoint"] = kp
    elif what == "top":
        obj[value[0]] = value[1]
    return obj


ODD_VALUES = st.sampled_from([
    -1, 2**63, 10**18, MAX_CLASSES, 1.5, float("nan"), "x", None, [], {},
    np.zeros((2, 150, 25, 3), np.float64), np.zeros((2, 150, 24, 3), np.float32),
    np.zeros((0,), np.float32), np.zeros((2, 150, 25, 3), np.int64), 10**9])
EDITS = st.one_of(
    st.tuples(st.just("field"), st.integers(0, 7),
              st.tuples(st.sampled_from(["label", "total_frames", "keypoint", "frame_dir"]),
                        ODD_VALUES)),
    st.tuples(st.just("drop"), st.integers(0, 7),
              st.sampled_from(["label", "total_frames", "keypoint", "frame_dir"])),
    st.tuples(st.just("nan"), st.integers(0, 7), st.integers(0, 10**6)),
    st.tuples(st.just("top"), st.integers(0, 0),
              st.tuples(st.sampled_from(["split", "annotations", "class_names"]), ODD_VALUES)))


def edited_pickles():
    return st.tuples(EDITS, st.integers(2, 5)).map(
        lambda t: pickle.dumps(_edit(VALID_POSE.to_pickle_obj(), t[0]), protocol=t[1]))


def assert_correct_pose(data: PoseData) -> None:
    """What the format promises of data the reader returned (checked here independently)."""
    names = {a["frame_dir"] for a in data.annotations}
    assert len(names) == len(data.annotations)
    for a in data.annotations:
        kp = a["keypoint"]
        assert isinstance(kp, np.ndarray) and kp.dtype.kind in "fiu"
        assert kp.ndim == 4 and kp.shape[2:] == (25, 3) and kp.shape[1] == a["total_frames"]
        assert np.isfinite(kp).all()
        assert 0 <= a["label"] < (len(data.class_names) if data.class_names else MAX_CLASSES)
    assert all(set(ids) <= names for ids in data.split.values())


def check_pickle(tmp_path, data: bytes) -> None:
    path = tmp_path / "fuzz.pkl"
    path.write_bytes(data)
    outcome, grew = peak_growth(read_pose_pickle, path, NTU25)
    if isinstance(outcome, DataError):
        assert_one_line(outcome, str(path))
    else:
        assert_correct_pose(outcome)
    assert grew <= 2 * len(data) + SLACK, f"{grew / 1e6:.1f} MB for a {len(data) / 1e6:.1f} MB file"


@pytest.fixture(scope="module")
def pkl_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz-pkl")
    assert read_pose_pickle(_write(path, VALID_PKL), NTU25).split == VALID_POSE.split  # warm
    return path


def _write(folder, data: bytes):
    (folder / "fuzz.pkl").write_bytes(data)
    return folder / "fuzz.pkl"


@FUZZ
@given(data=st.one_of(truncated(VALID_PKL), flipped(VALID_PKL), spliced(VALID_PKL),
                      huge_counts(VALID_PKL)))
def test_pickle_reader_on_mutated_bytes(pkl_dir, data):
    check_pickle(pkl_dir, data)


@FUZZ
@given(data=edited_pickles())
def test_pickle_reader_on_edited_structures(pkl_dir, data):
    check_pickle(pkl_dir, data)


def test_the_pickle_oracle_holds_for_the_valid_file(pkl_dir):
    """The fuzz checks can pass: the unmutated file reads back as written."""
    check_pickle(pkl_dir, VALID_PKL)
    back = read_pose_pickle(_write(pkl_dir, VALID_PKL), NTU25)
    assert [a["frame_dir"] for a in back.annotations] == [
        a["frame_dir"] for a in VALID_POSE.annotations]


# ---- the NTU .skeleton parser ------------------------------------------------------------------

def valid_skeleton() -> bytes:
    """300 frames, two bodies from frame 20 on (the second leaves at 250): a 1.5 MB file."""
    rng = np.random.default_rng(1)
    info = "0 1 1 1 1 0 0.02764709 0.05745083 2"
    lines = ["300"]
    for t in range(300):
        bodies = [72057594037931101] + ([72057594037931102] if 20 <= t < 250 else [])
        lines.append(str(len(bodies)))
        for body_id in bodies:
            lines += [f"{body_id} {info}", "25"]
            joints = rng.normal(size=(25, 12))
            lines += [" ".join(f"{v:.7g}" for v in row) for row in joints]
    return ("\r\n".join(lines) + "\r\n").encode()


VALID_SKELETON = valid_skeleton()
ODD_TOKENS = [b"nan", b"inf", b"-inf", b"1e999", b"-0", b"99999999999999999999999", b"",
              b"abc", b"0x10", b"1 2", b"4294967296", b"999999999", b"-3"]


def line_edits(data: bytes):
    """A line dropped or repeated, or one of its fields replaced by an odd token (a huge count
    when the line is a count line), added or removed."""
    lines = data.split(b"\r\n")

    def apply(t):
        how, i, j, token = t
        i %= len(lines)
        out = list(lines)
        fields = out[i].split(b" ")
        if how == "drop":
            del out[i]
        elif how == "repeat":
            out.insert(i, out[i])
        elif how == "replace":
            fields[j % len(fields)] = token
            out[i] = b" ".join(fields)
        elif how == "add":
            out[i] = b" ".join(fields + [token or b"0"])
        elif how == "remove":
            out[i] = b" ".join(fields[:-1])
        return b"\r\n".join(out)
    # Lines 0-2 hold the frame count, a body count and body info: edits there come often.
    return st.tuples(st.sampled_from(["drop", "repeat", "replace", "add", "remove"]),
                     st.one_of(st.integers(0, 30), st.integers(0, len(lines) - 1)),
                     st.integers(0, 11), st.sampled_from(ODD_TOKENS)).map(apply)


def same_skeleton(a, b) -> None:
    assert (a.num_frames, a.bodies_per_frame.tolist()) == (b.num_frames, b.bodies_per_frame.tolist())
    assert len(a.bodies) == len(b.bodies)
    for x, y in zip(a.bodies, b.bodies):
        assert x.body_id == y.body_id and x.frames.tolist() == y.frames.tolist()
        np.testing.assert_array_equal(x.joints, y.joints)  # NaN equals NaN here
        np.testing.assert_array_equal(x.info, y.info)


def check_skeleton(data: bytes) -> None:
    fast, fast_grew = traced_peak(parse_skeleton_bytes, data, "fuzz.skeleton", True)
    exact, exact_grew = traced_peak(parse_skeleton_bytes, data, "fuzz.skeleton", False)
    for outcome in (fast, exact):
        if isinstance(outcome, DataError):
            assert_one_line(outcome, "fuzz.skeleton")
    assert type(fast) is type(exact)
    if isinstance(fast, DataError):
        assert str(fast) == str(exact)
    else:
        same_skeleton(fast, exact)
    for grew in (fast_grew, exact_grew):
        assert grew <= 2 * len(data) + SLACK, (
            f"{grew / 1e6:.1f} MB for a {len(data) / 1e6:.1f} MB file")


@pytest.fixture(scope="module")
def warm_parser():
    parse_skeleton_bytes(VALID_SKELETON)  # compiles (or loads) the fast path once


@FUZZ
@given(data=st.one_of(truncated(VALID_SKELETON), flipped(VALID_SKELETON),
                      spliced(VALID_SKELETON), line_edits(VALID_SKELETON)))
def test_skeleton_parser_on_mutated_files(warm_parser, data):
    check_skeleton(data)


def test_the_skeleton_oracle_holds_for_the_valid_file(warm_parser):
    check_skeleton(VALID_SKELETON)
    sf = parse_skeleton_bytes(VALID_SKELETON, "fuzz.skeleton")
    assert sf.num_frames == 300 and [len(b.frames) for b in sf.bodies] == [300, 230]
