"""The compiled fast path of the NTU `.skeleton` parser (numba), used by `ntu_skeleton`.

`parse` makes one pass over the bytes, driven by the format's counts: frame count, body counts,
the 10-field info line, the joint count and 25 joint lines of 12 fields, checking the number of
fields on every line, and writes each value straight into the output arrays.

A field such as `-0.2059419` is read 8 bytes at a time (SWAR): one bit trick marks the bytes
that are not digits, the first marked byte is the point, the next one ends the number; the
digits, the point taken out, become one integer m < 10^8 in three multiply-and-shift steps, and
the value is m / 10^k: one correctly rounded IEEE division of two exact doubles (Clinger's fast
path), the same double that float() gives. That covers nearly every number NTU writes ("%.7g":
in the real sample all but 24 of 32,137). Anything else (a sign '+', an exponent, more than 8
digits, odd spacing) goes through `_slow_number`, a digit-by-digit loop that is just as exact
for up to 18 digits and an exponent within 22. Whatever neither handles (a 19th digit, "nan", a
count spelled "25.0", a wrong number of fields) makes `parse` give up: the caller then parses the
file on the exact path, which accepts the same files and words the one-line error.

The helpers take the buffer's address rather than the array: numba reference-counts arrays passed
to helpers, and that bookkeeping, per number, cost more than the conversion. fastmath is not used:
it would allow the division to be replaced by an inexact multiplication.

It also groups the body entries into tracks (`_tracks`, the rule of `ntu_skeleton._group_bodies`,
which the exact path uses; tests compare the two), so the Python left per file is a few slices.

Importing this module imports numba, so the parser imports it on first use only.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

NUM_INFO, NUM_JOINT_FIELDS, NUM_JOINTS = 10, 12, 25
OK, GIVE_UP = 0, 1
# The fewest bytes a body entry can take (one-character fields, one separator, LF line ends):
# bounds the number of entries a file of n bytes holds, so outputs are allocated once.
_MIN_ENTRY_BYTES = (2 * NUM_INFO) + len("25\n") + NUM_JOINTS * 2 * NUM_JOINT_FIELDS
_MAX_DIGITS = 18  # an int64 mantissa holds any 18-digit number
_POW10 = np.array([10.0 ** k for k in range(23)])  # all exactly representable as doubles

_ZEROS = np.uint64(0x3030303030303030)  # '0' in every byte
_HIGH_BITS = np.uint64(0x8080808080808080)
_TO_HIGH_BIT = np.uint64(0x7676767676767676)  # 10 + 0x76 = 0x80: sets bit 7 for values >= 10
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2 ** 64 - 1], np.uint64)


# ---- raw memory access (bounds are checked by the callers) -------------------------------------

@intrinsic
def _peek(typingctx, address, offset):
    """The byte at address + offset."""
    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(builder.add(args[0], args[1]), ir.IntType(8).as_pointer())
        return builder.load(pointer)
    return types.uint8(types.intp, types.intp), codegen


@intrinsic
def _peek8(typingctx, address, offset):
    """The 8 bytes at address + offset (any alignment) as a little-endian uint64."""
    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(builder.add(args[0], args[1]), ir.IntType(64).as_pointer())
        return builder.load(pointer, align=1)
    return types.uint64(types.intp, types.intp), codegen


@intrinsic
def _trailing_zeros(typingctx, value):
    """Count of trailing zero bits; 64 for 0."""
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))
    return types.uint64(types.uint64), codegen


# ---- numbers -----------------------------------------------------------------------------------

@njit(inline="always")
def _non_digits(word):
    """Bit 7 of each byte that is not an ASCII digit. Exact up to the first non-ASCII byte (whose
    carry may mark the bytes after it, which only ever makes the caller take the slow path)."""
    x = word ^ _ZEROS
    return ((x + _TO_HIGH_BIT) | x) & _HIGH_BITS


@njit(inline="always")
def _eight_digits(digits):
    """The integer spelled by 8 digit values (0-9), the first in the lowest byte."""
    digits = (digits * np.uint64(10) + (digits >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    digits = (digits * np.uint64(100) + (digits >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    return (digits * np.uint64(10000) + (digits >> np.uint64(32))) & np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _is_blank(c):
    """bytes.split() separators other than the newline."""
    return c == 32 or c == 13 or c == 9 or c == 11 or c == 12


@njit(inline="always")
def _skip_blanks(buf, i, n):
    while i < n and _is_blank(_peek(buf, i)):
        i += 1
    return i


@njit(cache=True)
def _slow_number(buf, i, n):
    """Any decimal float() reads the same way, after leading blanks: [sign] digits [. digits]
    [e [sign] digits], at most 18 digits and a power of ten within 22. Returns (value, index
    after it), or end -1 to give up (no number before the line end, or an unusual one)."""
    i = _skip_blanks(buf, i, n)
    if i >= n:
        return 0.0, -1
    neg = _peek(buf, i) == 45  # -
    i += neg or _peek(buf, i) == 43  # +
    start, mantissa, frac, point = i, np.int64(0), 0, False
    while i < n:
        c = _peek(buf, i)
        if 48 <= c <= 57:
            mantissa = mantissa * 10 + (np.int64(c) - 48)
            frac += point
        elif c == 46 and not point:  # .
            point = True
        else:
            break
        i += 1
    digits = i - start - point
    if digits == 0 or digits > _MAX_DIGITS:
        return 0.0, -1
    scale = -frac
    if i < n and (_peek(buf, i) == 101 or _peek(buf, i) == 69):  # e E
        i += 1
        exp_neg = i < n and _peek(buf, i) == 45
        if i < n and (_peek(buf, i) == 45 or _peek(buf, i) == 43):
            i += 1
        exp_start, exponent = i, 0
        while i < n and 48 <= _peek(buf, i) <= 57 and i - exp_start < 4:
            exponent = exponent * 10 + (np.int64(_peek(buf, i)) - 48)
            i += 1
        if i == exp_start:
            return 0.0, -1
        scale += -exponent if exp_neg else exponent
    if i < n and not (_is_blank(_peek(buf, i)) or _peek(buf, i) == 10):
        return 0.0, -1
    # Exact operands, so one correctly rounded operation (with scale 0, the int64 -> double
    # conversion rounds correctly at any size).
    if scale > 0:
        if scale > 22 or mantissa > 2 ** 53:
            return 0.0, -1
        value = mantissa * _POW10[scale]
    else:
        if scale < -22 or (scale != 0 and mantissa > 2 ** 53):
            return 0.0, -1
        value = mantissa / _POW10[-scale]
    return (-value if neg else value), i


@njit(inline="always")
def _number(buf, i, n):
    """The number starting exactly at i: (value, index of the byte after it) or end -1."""
    if i + 24 > n:  # the 8-byte reads below stay inside the buffer
        return _slow_number(buf, i, n)
    w0, w1 = _peek8(buf, i), _peek8(buf, i + 8)
    neg = (w0 & np.uint64(0xFF)) == np.uint64(45)
    marks = _non_digits(w0) & ~(np.uint64(neg) << np.uint64(7))  # the sign ends nothing
    point_at = _trailing_zeros(marks) >> np.uint64(3)  # the first non-digit: '.' or the end
    shift = (np.uint64(8) * point_at) & np.uint64(63)
    point = ((w0 >> shift) & np.uint64(0xFF)) == np.uint64(46)
    rest = marks & (marks - np.uint64(1))
    # The non-digit after the point, branch-free (data-dependent branches mispredict here).
    after = ((_trailing_zeros(rest) >> np.uint64(3))
             + np.uint64(rest == 0) * (_trailing_zeros(_non_digits(w1)) >> np.uint64(3)))
    size = after if point else point_at
    frac_digits = (after - point_at - np.uint64(1)) if point else np.uint64(0)
    end = i + np.intp(size)
    # All digits in one word, read as an integer m scaled by 10^-8 (zero-padded on the right).
    # "0.ddd" (|x| < 1): the digits after the point, so 8 of them fit; else the word with the
    # point removed (the bytes after it move down one) and the sign turned into a leading '0'.
    before = (w0 >> ((shift - np.uint64(8)) & np.uint64(63))) & np.uint64(0xFF)
    zero_whole = (point_at - np.uint64(neg) == np.uint64(1)) & (before == np.uint64(48))
    unsigned = w0 ^ (np.uint64(neg) * np.uint64(0x1D))  # '-' ^ 0x1D == '0'
    below = _LOW_BYTES[point_at]
    moved = (unsigned >> np.uint64(8)) | (w1 << np.uint64(56))  # the 9th byte comes in
    packed = (unsigned & below) | (moved & ~below)
    word = _peek8(buf, i + np.intp(point_at) + 1) if zero_whole else packed
    digits = frac_digits if zero_whole else point_at + frac_digits
    scale = np.uint64(8) if zero_whole else np.uint64(8) - point_at
    t = _peek(buf, end)
    if (point_at >= np.uint64(8) or digits > np.uint64(8) or not (t == 32 or t == 13 or t == 10)
            or size == np.uint64(neg) + np.uint64(point)):
        return _slow_number(buf, i, n)
    # m < 10^8 and 10^scale are exact doubles: one correctly rounded division, as float() gives.
    value = np.float64(_eight_digits((word - _ZEROS) & _LOW_BYTES[digits])) / _POW10[scale]
    return (-value if neg else value), end


@njit(cache=True)
def _integer(buf, i, n):
    """Plain unsigned digits after leading blanks (counts, body ids): (value, end) or end -1.
    i may be -1 (a failed `_next_line`)."""
    if i < 0:
        return 0, -1
    i = _skip_blanks(buf, i, n)
    start, value = i, np.int64(0)
    while i < n and 48 <= _peek(buf, i) <= 57:
        value = value * 10 + (np.int64(_peek(buf, i)) - 48)
        i += 1
    if i == start or i - start > _MAX_DIGITS or (
            i < n and not (_is_blank(_peek(buf, i)) or _peek(buf, i) == 10)):
        return 0, -1
    return value, i


# ---- lines -------------------------------------------------------------------------------------

@njit(inline="always")
def _more_on_line(buf, i, n):
    """Whether another field may follow the one that ended at i (i >= 0)."""
    return i < n and _peek(buf, i) != 10


@njit(inline="always")
def _next_line(buf, i, n):
    """The start of the next line if only blanks follow i on this one, else -1."""
    if i < 0:
        return -1
    i = _skip_blanks(buf, i, n)
    if i >= n:
        return i
    return i + 1 if _peek(buf, i) == 10 else -1


@njit(inline="always")
def _fields(buf, i, n, out, count):
    """Read `count` fields starting at i into out[:count]; return the index after the last
    one, or -1. A field starts one byte after the previous one ends; when more blanks follow,
    `_number` hands it to `_slow_number`, which skips them."""
    i -= 1
    for f in range(count):
        out[f], i = _number(buf, i + 1, n)
        if i < 0 or (f < count - 1 and not _more_on_line(buf, i, n)):
            return -1
    return i


@njit(cache=True)
def parse(data):
    """(status, frames, entries, bodies_per_frame, frame_of, info, joints, track_ids,
    track_starts, order) of a file's bytes: per body entry its frame, info (E, 10) float64 and
    joints (E, 25, 12) float32 (the first `entries` rows are valid), and the entries grouped
    into tracks (see `_tracks`). status GIVE_UP: use the exact path."""
    n, buf = len(data), data.ctypes.data
    capacity = n // _MIN_ENTRY_BYTES + 1
    info = np.empty((capacity, NUM_INFO))
    joints = np.empty((capacity, NUM_JOINTS, NUM_JOINT_FIELDS), np.float32)
    frame_of, body_ids = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
    give_up = (GIVE_UP, 0, 0, frame_of, frame_of, info, joints, body_ids, frame_of, frame_of)
    num_frames, i = _integer(buf, 0, n)
    if i < 0 or num_frames > n // 2:  # a frame takes at least 2 bytes
        return give_up
    bodies_per_frame = np.zeros(num_frames, np.int64)
    entries = 0
    for frame in range(num_frames):
        num_bodies, i = _integer(buf, _next_line(buf, i, n), n)
        if i < 0 or num_bodies > capacity - entries:
            return give_up
        bodies_per_frame[frame] = num_bodies
        for _ in range(num_bodies):
            body_id, i = _integer(buf, _next_line(buf, i, n), n)
            if i < 0 or not _more_on_line(buf, i, n):
                return give_up
            info[entries, 0] = body_id  # int64 -> double rounds like float() of the text
            i = _fields(buf, i + 1, n, info[entries, 1:], NUM_INFO - 1)
            if i < 0:
                return give_up
            count, i = _integer(buf, _next_line(buf, i, n), n)
            if i < 0 or count != NUM_JOINTS:
                return give_up
            for joint in range(NUM_JOINTS):
                i = _next_line(buf, i, n)
                if i < 0:
                    return give_up
                i = _fields(buf, i, n, joints[entries, joint], NUM_JOINT_FIELDS)
                if i < 0:
                    return give_up
            frame_of[entries], body_ids[entries] = frame, body_id
            entries += 1
    # Only blanks and blank lines may follow the last frame.
    while i < n and (_is_blank(_peek(buf, i)) or _peek(buf, i) == 10):
        i += 1
    if i != n:
        return give_up
    track_ids, track_starts, order = _tracks(frame_of[:entries], body_ids[:entries])
    return (OK, num_frames, entries, bodies_per_frame, frame_of, info, joints, track_ids,
            track_starts, order)


@njit(cache=True)
def _tracks(frame_of, body_ids):
    """Body entries grouped into tracks, in order of first appearance: a track is one body id,
    and the same id twice in one frame makes a second track (kept, not merged). Returns the
    track ids, where each track starts in `order`, and `order`: the entries sorted by track,
    in file order within one (a stable counting sort)."""
    entries = len(body_ids)
    track_of = np.empty(entries, np.int64)
    track_ids, track_dups = np.empty(entries, np.int64), np.empty(entries, np.int64)
    tracks, frame_start = 0, 0
    for e in range(entries):
        if e > 0 and frame_of[e] != frame_of[e - 1]:
            frame_start = e
        dup = 0  # how often this id came before in this frame
        for k in range(frame_start, e):
            dup += body_ids[k] == body_ids[e]
        t = 0
        while t < tracks and not (track_ids[t] == body_ids[e] and track_dups[t] == dup):
            t += 1
        if t == tracks:
            track_ids[t], track_dups[t] = body_ids[e], dup
            tracks += 1
        track_of[e] = t
    starts = np.zeros(tracks + 1, np.int64)  # plain loops: they compile faster than cumsum
    for e in range(entries):
        starts[track_of[e] + 1] += 1
    for t in range(tracks):
        starts[t + 1] += starts[t]
    filled = np.zeros(tracks, np.int64)
    order = np.empty(entries, np.int64)
    for e in range(entries):
        t = track_of[e]
        order[starts[t] + filled[t]] = e
        filled[t] += 1
    return track_ids[:tracks], starts, order
