"""The compiled fast path (`ntu_skeleton_fast`): its line and token index, and files laid out
in every way the format allows (or nearly), parsed the same as on the exact path."""
import re

import numpy as np
import pytest
from numba import njit

from bench.data.ntu import skeleton_fast as fast
from bench.data.ntu.skeleton import _parse_fast, parse_skeleton_bytes
from bench.errors import DataError

SEPARATORS = b" \t\n\v\f\r"  # what bytes.split() splits on
TOKEN = re.compile(rb"[^ \t\n\v\f\r]+")


@njit
def index_lines(data):
    size = len(data) + 64 + 32 + 2
    ends, before = np.empty(size, np.int32), np.empty(size, np.int32)
    num_tokens, num_lines = fast._index_lines(data, ends, before)
    return num_tokens, ends[:num_lines].copy(), before[:num_lines + 2 + 32].copy()


@njit
def index_tokens(data, start, count, compress):
    positions = np.full(count + 64, -1, np.int32)
    fast._index_tokens(data.ctypes.data, len(data), start, count, positions.ctypes.data,
                       compress)
    return positions[:count].copy()


def random_layout(rng, size):
    """Bytes of random tokens and runs of separators: runs that cross the 64-byte blocks,
    tokens that do, a file length that is or is not a multiple of 64."""
    out = bytearray()
    while len(out) < size:
        if rng.random() < 0.6:
            out += bytes(rng.choice(list(b"0123456789.-+eE"), rng.integers(1, 40)))
        else:
            out += bytes(rng.choice(list(SEPARATORS), rng.integers(1, 70)))
    return bytes(out[:size])


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 127, 128, 129, 1000, 4096, 4097])
def test_line_index_counts_tokens_per_line(size):
    rng = np.random.default_rng(size)
    data = random_layout(rng, size)
    num_tokens, ends, before = index_lines(np.frombuffer(data, np.uint8))
    lines = data.split(b"\n")
    assert num_tokens == len(data.split())
    assert list(ends) == [m.start() for m in re.finditer(b"\n", data)]
    per_line = np.diff(before[:len(lines) + 1])
    assert list(per_line) == [len(line.split()) for line in lines]
    assert (before[len(lines):] == num_tokens).all()  # nothing past the last line


def test_line_index_reports_arrays_too_short():
    data = np.frombuffer(b"1\n" * 500, np.uint8)  # a line every 2 bytes
    ends, before = np.empty(200, np.int32), np.empty(200, np.int32)
    assert fast._index_lines(data, ends, before)[1] == -1


@pytest.mark.parametrize("compress", [True, False])
def test_token_index_with_and_without_vector_compress(compress):
    """Both ways of writing a block's token starts (the vector compress is used where the CPU
    has one; elsewhere LLVM expands it, slowly but correctly, so both run everywhere)."""
    rng = np.random.default_rng(3)
    for size in (70, 200, 3000):
        data = random_layout(rng, size)
        starts = [m.start() for m in TOKEN.finditer(data)]
        array = np.frombuffer(data, np.uint8)
        for first in sorted(set(rng.integers(0, len(starts), 5).tolist() + [0])):
            # from a token start just after a separator, as for a line start
            start = starts[first] if first == 0 or data[starts[first] - 1] in SEPARATORS else 0
            expected = [p for p in starts if p >= start]
            got = index_tokens(array, start, len(expected), compress)
            assert list(got) == expected


def test_dense_blocks_of_one_byte_tokens():
    """More than 16 tokens in a block (the compress writes 16, then the rest)."""
    data = b"1 " * 200
    for compress in (True, False):
        assert list(index_tokens(np.frombuffer(data, np.uint8), 0, 200, compress)) == list(
            range(0, 400, 2))


# ---- whole files: fast path against exact path ------------------------------------------------

NTU_ROW = ["0.2181153", "0.1725972", "3.785547", "277.419", "191.8218", "1036.233", "519.1677",
           "-0.2059419", "0.05349901", "0.9692109", "-0.1239193", "2"]
INFO = ["72057594037931101", "0", "1", "1", "1", "1", "0", "0.02764709", "0.05745083", "2"]


def layout(rows, rng, eol="\r\n", last_eol=True, blanks=False):
    """rows: lists of tokens, one list per line. blanks: random extra separators around and
    between the fields (tabs, runs of spaces, \\v, \\f, stray \\r)."""
    def gap():
        return rng.choice([" ", "  ", "\t", " \t ", "\x0b", "\x0c", "\r", "   "]) if blanks else " "

    def edge():
        return rng.choice(["", "", " ", "\t", "  "]) if blanks else ""

    lines = [edge() + "".join(t + gap() for t in row[:-1]) + row[-1] + edge() for row in rows]
    return (eol.join(lines) + (eol if last_eol else "")).encode()


def ntu_rows(frames, value=lambda f, j, k: NTU_ROW[k]):
    rows = [[str(len(frames))]]
    for f, bodies in enumerate(frames):
        rows.append([str(len(bodies))])
        for body_id in bodies:
            rows += [[str(body_id)] + INFO[1:], ["25"]]
            rows += [[value(f, j, k) for k in range(12)] for j in range(25)]
    return rows


def same_either_way(data, fast_path_takes_it=True):
    """fast_path_takes_it None: either way."""
    if fast_path_takes_it is not None:
        assert (_parse_fast(data) is not None) == fast_path_takes_it
    try:
        exact = parse_skeleton_bytes(data, fast=False)
    except DataError as err:
        with pytest.raises(DataError) as fast_err:
            parse_skeleton_bytes(data)
        assert str(fast_err.value) == str(err)
        return
    got = parse_skeleton_bytes(data)
    assert got.num_frames == exact.num_frames
    assert list(got.bodies_per_frame) == list(exact.bodies_per_frame)
    assert [b.body_id for b in got.bodies] == [b.body_id for b in exact.bodies]
    for x, y in zip(got.bodies, exact.bodies):
        assert list(x.frames) == list(y.frames)
        assert x.joints.dtype == np.float32 and x.joints.tobytes() == y.joints.tobytes()
        assert x.info.tobytes() == y.info.tobytes()  # bitwise: -0.0 too


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
@pytest.mark.parametrize("last_eol", [True, False])
@pytest.mark.parametrize("blanks", [False, True])
def test_layouts_parse_the_same(eol, last_eol, blanks):
    rng = np.random.default_rng(len(eol) + 2 * last_eol + 4 * blanks)
    frames = [[1], [], [1, 2], [2, 1, 1], [7]]
    data = layout(ntu_rows(frames), rng, eol, last_eol, blanks)
    same_either_way(data)


def test_every_file_length_near_the_end():
    """The last numbers within 16 bytes of the end (left to the scalar path), with and
    without a line end, for every length of the last token, and files of every length mod 64."""
    rng = np.random.default_rng(0)
    for extra in range(70):
        last = "-0." + "1234567890"[: extra % 9] if extra % 3 else str(extra)
        rows = ntu_rows([[5]])
        rows[-1][-1] = last
        for last_eol in (True, False):
            data = layout(rows, rng, last_eol=last_eol) + b" " * (extra % 5)
            same_either_way(data)


def number_spellings(rng, all_kinds):
    """Decimal spellings of every kind float() reads; all_kinds False: only those the fast
    path takes (at most 18 digits, powers of ten within 22)."""
    kinds = [
        lambda: "%.7g" % (rng.normal() * 10.0 ** rng.integers(-7, 8)),
        lambda: "-0.0" + "".join(rng.choice(list("0123456789"), rng.integers(0, 12))),
        lambda: "0." + "0" * rng.integers(0, 10) + str(rng.integers(1, 10 ** 7)),
        lambda: "".join(rng.choice(list("0123456789"), rng.integers(1, 20))),  # 1-19 digits
        lambda: "".join(rng.choice(list("0123456789"), rng.integers(1, 18))) + "."
        + "".join(rng.choice(list("0123456789"), rng.integers(0, 18))),
        lambda: rng.choice(["+", "-", ""]) + str(rng.integers(1, 999)) + rng.choice(["e", "E"])
        + rng.choice(["+", "-", ""]) + str(rng.integers(0, 25)),
        lambda: rng.choice(["-0", "0", ".5", "-.5", "5.", "-0.", "0.000", "-0.0000000",
                            "00012.5000", "1e22", "1e-22", "12345678.9", "0.12345678"]),
    ]
    if not all_kinds:
        kinds = [kinds[k] for k in (0, 1, 2, 6)]
    return kinds[rng.integers(len(kinds))]()


def test_random_numbers_and_layouts():
    """Files of random numbers (as written by NTU and by other writers: 9+ digits, exponents,
    signs, leading zeros), random blanks, either line end: the same result either way."""
    rng = np.random.default_rng(11)
    for trial in range(16):
        all_kinds = trial >= 8  # then the fast path may give up (19 digits, 1e25)
        frames = [[int(b) for b in rng.integers(1, 4, rng.integers(1, 3))] for _ in range(4)]
        rows = ntu_rows(frames, lambda f, j, k: number_spellings(rng, all_kinds))
        data = layout(rows, rng, str(rng.choice(["\r\n", "\n"])), bool(rng.integers(2)),
                      bool(trial % 2))
        same_either_way(data, None if all_kinds else True)


@pytest.mark.parametrize("line, fields", [
    (2, 9), (2, 11),  # the info line
    (3, 2),  # the joint count line
    (4, 11), (4, 13), (28, 11), (28, 13),  # the first and the last joint line
])
def test_wrong_number_of_fields_gives_up(line, fields):
    rows = ntu_rows([[5], [5]])
    row = rows[line]
    rows[line] = row[:fields] if fields < len(row) else row + ["1"] * (fields - len(row))
    data = layout(rows, np.random.default_rng(0))
    same_either_way(data, fast_path_takes_it=False)
    with pytest.raises(DataError, match=f"line {line + 1}|line {line + 2}"):
        parse_skeleton_bytes(data, fast=False)


@pytest.mark.parametrize("token", ["1\x002", "0.5\x1c", "0.\xe95", "--1", "1.2.3", "0x10", ".",
                                   "-", "1,5", "nan", "inf", "1e", "1e+"])
def test_tokens_that_are_not_plain_numbers(token):
    rows = ntu_rows([[5]])
    rows[10][3] = token
    data = layout(rows, np.random.default_rng(0)).replace(b"\xc3\xa9", b"\xe9")
    same_either_way(data, fast_path_takes_it=False)


def test_long_tokens_and_many_empty_frames():
    """Tokens longer than the 16 bytes the vector lanes read, and a file of short lines (many
    empty frames: its line index is made again, larger)."""
    rows = ntu_rows([[]] * 3000 + [[9]], lambda f, j, k: "-1234567.12345678" if k == 3 else
                    NTU_ROW[k])
    data = layout(rows, np.random.default_rng(0))
    same_either_way(data)
    sf = parse_skeleton_bytes(data)
    assert sf.num_frames == 3001 and sf.bodies[0].info[0, 0] == 9.0
    assert sf.bodies[0].joints[0, 0, 3] == np.float32(-1234567.12345678)


def test_blank_lines_inside_give_up_and_at_the_end_do_not():
    rows = ntu_rows([[5]])
    data = layout(rows, np.random.default_rng(0))
    same_either_way(data + b"\r\n \r\n\t\r\n")
    lines = data.split(b"\r\n")
    same_either_way(b"\r\n".join(lines[:5] + [b""] + lines[5:]), fast_path_takes_it=False)
