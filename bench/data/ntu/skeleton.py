"""Exact, fast parser for NTU RGB+D raw `.skeleton` files, and their 2-person keypoint arrays.

Format (CRLF line ends): a frame count; per frame a body count (0 allowed); per body one line of
10 info fields (BODY_INFO_FIELDS), a joint count (25) and one line of 12 fields per joint
(JOINT_FIELDS).

Two paths give the same result. The fast path (`ntu_skeleton_fast`, compiled with numba) indexes
the lines first, checks the fields of every line against the structure, then converts the numbers
exactly, 8 at a time in vector registers; it gives up on anything unusual. Then the exact path
re-parses the file: np.fromstring converts every number with the same correctly rounded
conversion as float(), the structure is walked by its counts, and the number of fields on every
line is checked by comparing the file's whitespace with that of the expected structure (so a
field moved from one line to another is still an error); it accepts the same files and words the
one-line error (file, line, what was expected).
Body ids, larger than a float64 holds exactly, are read from the text on both paths.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from bench.errors import DataError

BODY_INFO_FIELDS = ("bodyID", "clipedEdges", "handLeftConfidence", "handLeftState",
                    "handRightConfidence", "handRightState", "isRestricted", "leanX", "leanY",
                    "trackingState")
JOINT_FIELDS = ("x", "y", "z", "depthX", "depthY", "colorX", "colorY", "orientationW",
                "orientationX", "orientationY", "orientationZ", "trackingState")
NUM_JOINTS = 25
_NI, _NJ = len(BODY_INFO_FIELDS), len(JOINT_FIELDS)
_BODY_TOKENS = _NI + 1 + NUM_JOINTS * _NJ
_BODY_LINE_FIELDS = [_NI, 1] + [_NJ] * NUM_JOINTS
_LINE_KIND = {1: "a count", _NI: "body info", _NJ: "joint"}


@dataclass(frozen=True, eq=False)
class SkeletonBody:
    """One tracked body: the frames it appears in and every field of those frames."""

    body_id: int  # exact; the info column bodyID is float64 and loses the last digits
    frames: np.ndarray  # (F_b,) int64 frame indices, increasing
    joints: np.ndarray  # (F_b, 25, 12) float32, fields in JOINT_FIELDS order
    info: np.ndarray  # (F_b, 10) float64, fields in BODY_INFO_FIELDS order


@dataclass(frozen=True, eq=False)
class SkeletonFile:
    path: str
    num_frames: int
    bodies_per_frame: np.ndarray  # (num_frames,) int64; 0 for empty frames
    bodies: tuple[SkeletonBody, ...]  # in order of first appearance

    @property
    def name(self) -> str:
        base = os.path.basename(self.path)
        return base[: -len(".skeleton")] if base.endswith(".skeleton") else base


class _StructureError(Exception):
    """line None: the file ended early (reported at its last line)."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.line_fields: list[int] = []


def parse_skeleton_file(path: str | os.PathLike) -> SkeletonFile:
    try:
        data = _read(path)
    except OSError as err:
        raise DataError(f"{path}: cannot read NTU skeleton file ({err.strerror})") from None
    return parse_skeleton_bytes(data, os.fspath(path))


def _read(path) -> bytes:
    """The file's bytes with one read of its size: a third of Path.read_bytes' time per file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, os.fstat(fd).st_size + 1)
        while more := os.read(fd, 1 << 20):  # it grew, or a short read
            data += more
        return data
    finally:
        os.close(fd)


def parse_skeleton_bytes(data: bytes, source: str = "<bytes>", fast: bool = True) -> SkeletonFile:
    """Parse a file's bytes. fast=False forces the exact path (for tests and benchmarks)."""
    if not data or data.isspace():
        raise DataError(f"{source}: empty file (expected a frame count on line 1)")
    parsed = _parse_fast(data) if fast else None
    if parsed is None:
        num_frames, bodies_per_frame, frame_of, body_ids, info, joints = _parse_exact(data, source)
        parsed = num_frames, bodies_per_frame, _group_bodies(body_ids, frame_of, info, joints)
    return SkeletonFile(source, *parsed)


def _parse_fast(data: bytes):
    """(frames, bodies per frame, bodies), or None to use the exact path. The compiled parser
    also groups the entries into tracks (rows in track order), so each body is a few slices."""
    from bench.data.ntu import skeleton_fast as fast  # imports numba: only when parsing

    (status, num_frames, entries, bodies_per_frame, frame_of, info, joints, track_ids,
     starts) = fast.parse(np.frombuffer(data, np.uint8))
    if status != fast.OK:
        return None
    bodies = tuple(SkeletonBody(body_id, frame_of[a:b], joints[a:b], info[a:b])
                   for body_id, a, b in zip(track_ids.tolist(), starts.tolist(),
                                            starts[1:].tolist()))
    return num_frames, bodies_per_frame, bodies


def _parse_exact(data: bytes, source: str):
    values = _numbers(data, source)
    try:
        num_frames, frame_of, starts, line_fields, info_lines = _walk(values)
    except _StructureError as err:
        line = err.line or data.rstrip().count(b"\n") + 1
        # A field count off on an earlier line shifts everything after it: report that first.
        _check_line_fields(data, err.line_fields[: line - 1], source)
        raise DataError(f"{source}, line {line}: {err}") from None
    line_ends = _check_line_fields(data, line_fields, source)
    body_ids = _body_ids(data, line_ends, info_lines, source)
    info = values[starts[:, None] + np.arange(_NI)]
    joints = _entry_joints(values, starts)
    bodies_per_frame = np.bincount(frame_of, minlength=num_frames).astype(np.int64)
    return num_frames, bodies_per_frame, frame_of, body_ids, info, joints


def _entry_joints(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(entries, 25, 12) float32, each entry copied from its slice of `values`: no index or
    float64 copy of all joint values (peak memory stays near the values' own size)."""
    joints = np.empty((len(starts), NUM_JOINTS, _NJ), np.float32)
    flat = joints.reshape(len(starts), NUM_JOINTS * _NJ)
    first = _NI + 1
    for row, start in enumerate(starts.tolist()):
        flat[row] = values[start + first: start + first + NUM_JOINTS * _NJ]
    return joints


def _line_ends(data: bytes, chunk: int = 1 << 20) -> np.ndarray:
    """Offsets of the newlines, found a chunk at a time (no boolean copy of the whole file)."""
    raw = np.frombuffer(data, np.uint8)
    parts = [np.flatnonzero(raw[at: at + chunk] == 10) + at for at in range(0, len(raw), chunk)]
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


def _numbers(data: bytes, source: str) -> np.ndarray:
    """Every whitespace-separated number as float64. np.fromstring parses in C without making
    a Python object per token (the cost that dominates otherwise); it stops with a warning at
    anything it cannot read, and then the per-token path finds and reports the culprit."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return np.fromstring(data, dtype=np.float64, sep=" ")
        except (DeprecationWarning, ValueError):
            pass
    try:
        return _numbers_by_token(data)
    except ValueError:
        _raise_bad_number(data, source)


def _numbers_by_token(data: bytes, block: int = 1 << 16) -> np.ndarray:
    """float() of every token (what np.fromstring refused may still be a number), a block of
    lines at a time into one array: never a Python object for every token at once."""
    blocks, at = [], 0
    while at < len(data):
        end = data.find(b"\n", min(at + block, len(data)))
        end = len(data) if end < 0 else end + 1
        blocks.append((at, end))
        at = end
    sizes = [len(data[a:b].split()) for a, b in blocks]
    values = np.empty(sum(sizes), np.float64)
    filled = 0
    for (a, b), size in zip(blocks, sizes):
        values[filled: filled + size] = np.array(data[a:b].split(), dtype=np.float64)
        filled += size
    return values


def _lines(data: bytes):
    """The lines of `data`, one at a time (no list of all of them)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        yield data[start:end]
        start = end + 1


def _count(values: np.ndarray, pos: int, line: int, what: str) -> int:
    value = float(values[pos])
    if not (value >= 0 and value.is_integer()):
        raise _StructureError(line, f"{what} must be a non-negative integer, found {value:g}")
    return int(value)


def _walk(values: np.ndarray):
    """Follow the counts; return frame count, frame of each body entry, index of each entry's
    first value, the expected number of fields on every line, and each entry's info line."""
    line_fields = [1]
    info_lines: list[int] = []
    try:
        num_frames = _count(values, 0, 1, "frame count")
        frame_of, starts, pos = _walk_frames(values, num_frames, line_fields, info_lines)
        if pos != len(values):
            raise _StructureError(len(line_fields) + 1, (
                f"frame count {num_frames} on line 1 does not match content: "
                f"data continues after frame {num_frames}"))
    except _StructureError as err:
        err.line_fields = line_fields
        raise
    return (num_frames, np.array(frame_of, np.int64), np.array(starts, np.int64), line_fields,
            info_lines)


def _walk_frames(values: np.ndarray, num_frames: int, line_fields: list[int],
                 info_lines: list[int]):
    n, pos = len(values), 1
    frame_of: list[int] = []
    starts: list[int] = []
    for frame in range(num_frames):
        if pos >= n:
            raise _StructureError(None, f"frame count {num_frames} on line 1 does not match "
                                        f"content: the file holds {frame} frames")
        num_bodies = _count(values, pos, len(line_fields) + 1, f"body count of frame {frame + 1}")
        line_fields.append(1)
        pos += 1
        for body in range(num_bodies):
            where = f"body {body + 1} of {num_bodies} in frame {frame + 1} of {num_frames}"
            if pos + _NI >= n:
                raise _StructureError(None, f"file truncated inside {where}")
            _count(values, pos, len(line_fields) + 1, f"bodyID of {where}")
            line = len(line_fields) + 2
            joints = _count(values, pos + _NI, line, f"joint count of {where}")
            if joints != NUM_JOINTS:
                raise _StructureError(line, f"wrong joint count {joints} for {where}, "
                                            f"expected {NUM_JOINTS}")
            if pos + _BODY_TOKENS > n:
                raise _StructureError(None, f"file truncated inside {where}")
            frame_of.append(frame)
            starts.append(pos)
            info_lines.append(len(line_fields))
            line_fields.extend(_BODY_LINE_FIELDS)
            pos += _BODY_TOKENS
    return frame_of, starts, pos


# Keep only whitespace, the bytes that give a line its shape: with spaces as the only separators
# a line holds at most spaces + 1 fields, so equal layouts and equal totals mean equal lines.
_NOT_LAYOUT = bytes(c for c in range(256) if c not in b" \t\r\n\x0b\x0c")


def _layout(line_fields: list[int], eol: bytes) -> bytes:
    """The spaces and line ends of a regular file (fields split by one space) of that shape."""
    sep = {f: b" " * (f - 1) + eol for f in set(line_fields)}
    return b"".join([sep[f] for f in line_fields])


def _check_line_fields(data: bytes, line_fields: list[int], source: str) -> np.ndarray:
    """Check the number of fields on every line; return the offsets of the line ends.

    Fast path: the file's spaces and line ends, all else deleted (in C), equal those of a
    regular file of the expected shape. Otherwise (odd spacing, tabs, blank lines, or an error)
    count the fields line by line."""
    ends = _line_ends(data)
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(data))
    layout = data.translate(None, _NOT_LAYOUT)
    expected = _layout(line_fields, b"\r\n" if b"\r" in data else b"\n")
    if layout.rstrip(b"\r\n") == expected.rstrip(b"\r\n"):  # blank lines at the end are fine
        return ends
    starts = np.concatenate(([0], ends + 1))  # a line at a time: no list of every line
    for i, fields in enumerate(line_fields):
        count = len(data[starts[i]: ends[i]].split()) if i < len(ends) else 0
        if count != fields:
            kind = _LINE_KIND.get(fields, "")
            raise DataError(f"{source}, line {i + 1}: expected {fields} fields ({kind} line), "
                            f"found {count}")
    return ends


def _body_ids(data: bytes, line_ends: np.ndarray, info_lines: list[int], source: str) -> list[int]:
    """Body ids read from the text: they exceed what a float64 holds exactly."""
    ids = []
    for line in info_lines:
        start = int(line_ends[line - 1]) + 1 if line else 0
        token = data[start: start + 40].split(None, 1)[0]
        if not token.isdigit():
            raise DataError(f"{source}, line {line + 1}: bodyID must be a non-negative integer, "
                            f"found {_show(token)}")
        ids.append(int(token))
    return ids


def _raise_bad_number(data: bytes, source: str):
    for i, line in enumerate(_lines(data)):
        for j, token in enumerate(line.split()):
            try:
                float(token)
            except ValueError:
                raise DataError(f"{source}, line {i + 1}, field {j + 1}: {_show(token)} is not "
                                "a number") from None
    raise AssertionError("numpy rejected a token that float() accepts")


def _show(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    return repr(text if len(text) <= 24 else text[:24] + "...")


def _group_bodies(body_ids: list[int], frame_of, info, joints) -> tuple[SkeletonBody, ...]:
    """Split body entries into tracks by body id, in order of first appearance (the exact
    path; the fast path applies the same rule in `ntu_skeleton_fast._tracks`)."""
    if len(set(body_ids)) == 1 and (np.diff(frame_of) > 0).all():  # the common case
        return (SkeletonBody(body_ids[0], frame_of, joints, info),)
    groups: dict[tuple[int, int], list[int]] = {}
    current, seen = -1, {}
    for entry, (frame, body_id) in enumerate(zip(frame_of.tolist(), body_ids)):
        if frame != current:
            current, seen = frame, {}
        # The same id twice in one frame: keep both, as separate tracks.
        dup = seen.get(body_id, 0)
        seen[body_id] = dup + 1
        groups.setdefault((body_id, dup), []).append(entry)
    return tuple(SkeletonBody(body_id, frame_of[idx], joints[idx], info[idx])
                 for (body_id, _), idx in ((k, np.array(v, np.int64)) for k, v in groups.items()))


# ---- keypoint arrays --------------------------------------------------------------------------

def _is_person_shaped(body: SkeletonBody, wide_ratio: float = 0.8, max_wide: float = 0.7) -> bool:
    """Objects tracked as bodies tend to be wider (x) than tall (y); people are tall."""
    # (2, F_b, 25) contiguous: reducing strided (F_b, 25, 2) slices took 3x longer than parsing
    xy = np.moveaxis(body.joints[:, :, :2], 2, 0).copy()
    extent = xy.max(axis=2) - xy.min(axis=2)  # (2, F_b)
    wide = extent[0] > wide_ratio * extent[1]
    return bool(wide.mean() <= max_wide)


def motion_score(body: SkeletonBody) -> float:
    """Frames present x mean temporal std of x, y, z over joints: long-tracked moving bodies
    (the performers) rank above short or static detections."""
    xyz = body.joints[:, :, :3].astype(np.float64)
    return float(len(body.frames) * xyz.std(axis=0).mean())


def select_bodies(sf: SkeletonFile, max_bodies: int = 2, min_frames: int = 11):
    """The rule: drop bodies seen in fewer than `min_frames` frames or not person-shaped (unless
    that drops all); rank the rest by `motion_score`; place each, best first, in the first of
    `max_bodies` slots whose frames it does not overlap (a track that resumes under a new id
    joins its slot); bodies that fit no slot are dropped. Returns (slots of bodies, each in time
    order, and the dropped bodies)."""
    ranked = list(sf.bodies)
    if len(ranked) > 1:  # a single body is kept whatever its shape and motion: skip the scores
        keep = [b for b in ranked if len(b.frames) >= min_frames and _is_person_shaped(b)]
        ranked = sorted(keep or ranked, key=motion_score, reverse=True)
    slots: list[list[SkeletonBody]] = [[] for _ in range(max_bodies)]
    used = np.zeros((max_bodies, sf.num_frames), bool)
    for body in ranked:
        for s in range(max_bodies):
            if not used[s, body.frames].any():
                slots[s].append(body)
                used[s, body.frames] = True
                break
    for slot in slots:
        slot.sort(key=lambda b: b.frames[0])
    placed = {id(b) for slot in slots for b in slot}
    dropped = [b for b in sf.bodies if id(b) not in placed]
    return slots, dropped


def to_keypoint(sf: SkeletonFile, max_bodies: int = 2,
                min_frames: int = 11) -> tuple[np.ndarray, dict]:
    """(M, T, 25, 3) float32 x/y/z of the selected bodies (see `select_bodies`), T = the file's
    frame count; a slot is zero in frames where its body is absent. info records the choice."""
    slots, dropped = select_bodies(sf, max_bodies, min_frames)
    keypoint = np.zeros((max_bodies, sf.num_frames, NUM_JOINTS, 3), np.float32)
    for s, slot in enumerate(slots):
        for body in slot:
            keypoint[s, body.frames] = body.joints[:, :, :3]
    bpf = sf.bodies_per_frame
    info = {
        "sample_id": sf.name,
        "total_frames": sf.num_frames,
        "kept_body_ids": [[b.body_id for b in slot] for slot in slots],
        "dropped_body_ids": [b.body_id for b in dropped],
        "num_bodies": len(sf.bodies),
        "max_bodies_per_frame": int(bpf.max()) if len(bpf) else 0,
        "empty_frames": int((bpf == 0).sum()),
    }
    return keypoint, info
