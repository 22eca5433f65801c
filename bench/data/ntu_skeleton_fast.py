"""The compiled fast path of the NTU `.skeleton` parser (numba), used by `ntu_skeleton`.

`tokenize` converts every number in one pass over the bytes and notes where lines start; `walk`
follows the structure (frame count, body counts, 10-field info lines, joint counts, 12-field
joint lines) over the tokens, checking every line's field count; `collect` gathers the fields of
each body entry.

It is exact: a decimal of at most 15 significant digits scaled by a power of ten up to 22
(every number NTU writes) is one correctly rounded IEEE division or multiplication of two exact
doubles (Clinger's fast path), the same double that float() gives; an integer of up to 18
digits is converted, correctly rounded, by the hardware. Body ids (17 digits) stay exact
integers. Anything else, an error or an unusual spelling (a 19th digit, "nan", "+1", "25.0" as
a count), makes it give up: the caller then parses the file on the slow exact path, which
accepts the same files and words the one-line error.

Importing this module imports numba, so the parser imports it on first use only.
"""
from __future__ import annotations

import numpy as np
from numba import njit

NUM_INFO, NUM_JOINT_FIELDS, NUM_JOINTS = 10, 12, 25
# Values per body entry as stored: the info line, the joint count, then the joint lines.
ENTRY_VALUES = NUM_INFO + 1 + NUM_JOINTS * NUM_JOINT_FIELDS

OK, GIVE_UP = 0, 1
_POW10 = np.array([10.0 ** k for k in range(23)])  # all exactly representable as doubles
_MAX_EXACT_MANTISSA = 2 ** 53
_MAX_DIGITS = 18  # int64 holds any 18-digit mantissa


@njit(cache=True)
def _exponent(buf, i, n):
    """The signed exponent after an e/E at buf[i - 1]. Returns (end, exponent); end is -1 when
    it has no digits or more than 4."""
    neg = i < n and buf[i] == 45
    if i < n and (buf[i] == 45 or buf[i] == 43):
        i += 1
    start, exponent = i, 0
    while i < n and 48 <= buf[i] <= 57 and i - start <= 4:
        exponent = exponent * 10 + (np.int64(buf[i]) - 48)
        i += 1
    if i == start or i - start > 4:
        return -1, 0
    return i, -exponent if neg else exponent


@njit(cache=True)
def tokenize(buf, values, integers, line_starts):
    """Convert every token of the file. values[k]: the k-th number; integers[k]: its exact
    value when it is plain unsigned digits, else -1; line_starts[l]: index of the first token
    of line l, so line l holds line_starts[l + 1] - line_starts[l] tokens. values and integers
    need room for len(buf) // 2 + 1 tokens, line_starts for len(buf) + 2 lines.
    Returns (tokens, lines), or (-1, 0) when a token is not a number this path converts.

    One flat loop with few data-dependent branches: this loop is the parser's whole cost, and
    splitting it into helpers or separate digit and fraction loops measured up to 2x slower."""
    n, i, k, line = len(buf), 0, 0, 0
    line_starts[0] = 0
    while i < n:
        c = buf[i]
        if c == 32 or c == 13 or c == 9 or c == 11 or c == 12:  # bytes.split() separators
            i += 1
            continue
        if c == 10:
            line += 1
            line_starts[line] = k
            i += 1
            continue
        neg = c == 45  # -
        i += neg
        start = i
        mantissa, frac, point = np.int64(0), 0, False
        while i < n:
            c = buf[i]
            if 48 <= c <= 57:
                mantissa = mantissa * 10 + (np.int64(c) - 48)
                frac += point
            elif c == 46 and not point:  # .
                point = True
            else:
                break
            i += 1
        digits = i - start - point
        if digits == 0 or digits > _MAX_DIGITS:  # int64 holds 18 digits
            return -1, 0
        scale, plain = -frac, not (neg or point)
        if i < n and (buf[i] == 101 or buf[i] == 69):  # e E
            i, exponent = _exponent(buf, i + 1, n)
            if i < 0:
                return -1, 0
            scale, plain = scale + exponent, False
        if i < n and not (buf[i] == 32 or buf[i] == 13 or buf[i] == 10 or buf[i] == 9
                          or buf[i] == 11 or buf[i] == 12):
            return -1, 0
        # Exact operands, so one correctly rounded operation (with scale 0, the int64 ->
        # double conversion rounds correctly at any size).
        if scale > 0:
            if scale > 22 or mantissa > _MAX_EXACT_MANTISSA:
                return -1, 0
            value = mantissa * _POW10[scale]
        else:
            if scale < -22 or (scale != 0 and mantissa > _MAX_EXACT_MANTISSA):
                return -1, 0
            value = mantissa / _POW10[-scale]
        values[k] = -value if neg else value
        integers[k] = mantissa if plain else -1
        k += 1
    line_starts[line + 1] = k
    return k, line + 1


@njit(cache=True)
def _fields(line_starts, lines, line):
    return line_starts[line + 1] - line_starts[line] if line < lines else 0


@njit(cache=True)
def walk(integers, line_starts, lines, starts, frame_of, body_ids):
    """Follow the counts over the tokens of `tokenize`, checking the number of tokens on every
    line. Per body entry: the index of its first token (its bodyID), its frame and its exact
    body id, into starts, frame_of, body_ids (capacity,). Returns (status, frames, entries)."""
    capacity = len(starts)
    if _fields(line_starts, lines, 0) != 1 or integers[0] < 0:
        return GIVE_UP, 0, 0
    num_frames, line, tok, entries = integers[0], 1, 1, 0
    for frame in range(num_frames):
        if _fields(line_starts, lines, line) != 1 or integers[tok] < 0:
            return GIVE_UP, 0, 0
        num_bodies = integers[tok]
        line, tok = line + 1, tok + 1
        if num_bodies > capacity - entries:
            return GIVE_UP, 0, 0
        for _ in range(num_bodies):
            if (_fields(line_starts, lines, line) != NUM_INFO or integers[tok] < 0
                    or _fields(line_starts, lines, line + 1) != 1
                    or integers[tok + NUM_INFO] != NUM_JOINTS):
                return GIVE_UP, 0, 0
            for j in range(NUM_JOINTS):
                if _fields(line_starts, lines, line + 2 + j) != NUM_JOINT_FIELDS:
                    return GIVE_UP, 0, 0
            starts[entries], frame_of[entries], body_ids[entries] = tok, frame, integers[tok]
            line, tok, entries = line + 2 + NUM_JOINTS, tok + ENTRY_VALUES, entries + 1
    if line_starts[lines] != tok:  # only blank lines may follow the last frame
        return GIVE_UP, 0, 0
    return OK, num_frames, entries


@njit(cache=True)
def collect(values, starts):
    """The info (E, 10) float64 and joint (E, 25, 12) float32 fields of each body entry."""
    entries = len(starts)
    info = np.empty((entries, NUM_INFO))
    joints = np.empty((entries, NUM_JOINTS, NUM_JOINT_FIELDS), np.float32)
    for e in range(entries):
        at = starts[e]
        for f in range(NUM_INFO):
            info[e, f] = values[at + f]
        at += NUM_INFO + 1
        for j in range(NUM_JOINTS):
            for f in range(NUM_JOINT_FIELDS):
                joints[e, j, f] = values[at + j * NUM_JOINT_FIELDS + f]
    return info, joints
