import numpy as np
import pytest

from bench.data.ntu.loader import find_skeleton_files, load_ntu_arrays
from bench.data.ntu.skeleton import (
    BODY_INFO_FIELDS, JOINT_FIELDS, _parse_fast, parse_skeleton_bytes, parse_skeleton_file,
    to_keypoint)
from bench.errors import DataError

SAMPLE = "S001C001P001R001A001"
INFO = "0 1 1 1 1 0 0.02764709 0.05745083 2"


def person(t: int, amplitude: float, x0: float = 0.0) -> np.ndarray:
    """(25, 12) joints of a tall, narrow body whose arm moves with `amplitude`."""
    rng = np.random.default_rng(t)
    joints = np.zeros((25, 12))
    joints[:, 0] = x0 + rng.uniform(-0.15, 0.15, 25)
    joints[:, 1] = np.linspace(-0.8, 0.8, 25)
    joints[:, 2] = 3.0
    joints[4:8, 1] += amplitude * np.sin(t / 5)
    joints[:, 11] = 2
    return joints


def noise_object(t: int) -> np.ndarray:
    """A wide, flat, jittery detection: what the Kinect sometimes tracks as a body."""
    rng = np.random.default_rng(1000 + t)
    joints = np.zeros((25, 12))
    joints[:, 0] = np.linspace(-1.0, 1.0, 25) + rng.normal(0, 0.5, 25)
    joints[:, 1] = rng.uniform(-0.05, 0.05, 25)
    joints[:, 2] = 2.0 + rng.normal(0, 0.5, 25)
    return joints


def skeleton_text(frames, eol="\r\n") -> str:
    """frames: list of lists of (body_id, (25, 12) joints)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines += [f"{body_id} {INFO}", "25"]
            lines += [" ".join(f"{v:.7g}" for v in row) for row in joints]
    return eol.join(lines) + eol


def write(tmp_path, text, name=f"{SAMPLE}.skeleton"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_real_sample_matches_reference(shared_data):
    path = shared_data / "ntu-sample" / f"{SAMPLE}.skeleton"
    reference = np.load(str(path) + ".npy", allow_pickle=True).item()["skel_body0"]
    sf = parse_skeleton_file(path)
    assert sf.num_frames == 103 and len(sf.bodies) == 1 and sf.name == SAMPLE
    body = sf.bodies[0]
    assert body.body_id == 72057594037931101  # exact, beyond float precision
    assert body.joints.shape == (103, 25, len(JOINT_FIELDS)) and body.joints.dtype == np.float32
    np.testing.assert_array_equal(body.joints[:, :, :3], reference.astype(np.float32))
    assert body.info.shape == (103, len(BODY_INFO_FIELDS))
    np.testing.assert_array_equal(body.info[0, 1:], [float(v) for v in INFO.split()])
    keypoint, info = to_keypoint(sf)
    assert keypoint.shape == (2, 103, 25, 3) and not keypoint[1].any()
    np.testing.assert_array_equal(keypoint[0], reference.astype(np.float32))
    assert info["kept_body_ids"] == [[72057594037931101], []]


def test_every_field_kept_and_lf_accepted():
    joints = np.arange(300, dtype=float).reshape(25, 12) / 8
    for eol in ("\r\n", "\n"):
        sf = parse_skeleton_bytes(skeleton_text([[], [(7, joints)]], eol).encode())
        assert sf.num_frames == 2 and list(sf.bodies_per_frame) == [0, 1]
        np.testing.assert_array_equal(sf.bodies[0].joints[0], joints.astype(np.float32))
        assert list(sf.bodies[0].frames) == [1]


def test_noise_bodies_and_empty_frames(tmp_path):
    frames = []
    for t in range(60):
        bodies = []
        if t >= 3:  # frames 0-2 are empty
            bodies.append((111, person(t, 0.5)))
            bodies.append((222 if t < 30 else 333, person(t, 0.2, x0=1.0)))  # id switch at 30
        if 10 <= t < 40:
            bodies.append((444, noise_object(t)))
        if 20 <= t < 25:
            bodies.append((555, person(t, 3.0, x0=-1.0)))  # too short to be a performer
        frames.append(bodies)
    sf = parse_skeleton_file(write(tmp_path, skeleton_text(frames)))
    assert sf.bodies_per_frame.max() == 4 and list(sf.bodies_per_frame[:4]) == [0, 0, 0, 2]
    assert [b.body_id for b in sf.bodies] == [111, 222, 444, 555, 333]
    keypoint, info = to_keypoint(sf)
    assert info["kept_body_ids"] == [[111], [222, 333]]
    assert sorted(info["dropped_body_ids"]) == [444, 555]
    assert info["empty_frames"] == 3 and info["max_bodies_per_frame"] == 4
    assert not keypoint[:, :3].any() and keypoint[:, 3:, :, 1].any(axis=2).all()
    np.testing.assert_allclose(keypoint[1, 40, :, 0], person(40, 0.2, x0=1.0)[:, 0], atol=1e-6)


def test_only_noise_bodies_still_gives_data():
    frames = [[(9, noise_object(t))] for t in range(5)]
    keypoint, info = to_keypoint(parse_skeleton_bytes(skeleton_text(frames).encode()))
    assert info["kept_body_ids"] == [[9], []] and keypoint[0].any()


def good_file(frames=3):
    return skeleton_text([[(1, person(t, 0.3))] for t in range(frames)]).splitlines(True)


@pytest.mark.parametrize("case, pattern", [
    ("empty", r"empty file"),
    ("truncated", r"line 40: file truncated inside body 1 of 1 in frame 2 of 3"),
    ("fewer_frames", r"line 57: frame count 3 on line 1 does not match content: the file holds 2"),
    ("extra_frames", r"line 86: frame count 3 on line 1 does not match content: data continues"),
    ("non_numeric", r"line 5, field 3: 'abc' is not a number"),
    ("joint_count", r"line 4: wrong joint count 24 for body 1 of 1 in frame 1 of 3, expected 25"),
    ("moved_field", r"line 6: expected 12 fields \(joint line\), found 11"),
    ("blank_line", r"line 3: expected 10 fields \(body info line\), found 0"),
    ("odd_spacing", r"line 6: expected 12 fields \(joint line\), found 11"),
    ("bad_count", r"line 2: body count of frame 1 must be a non-negative integer, found 1.5"),
])
def test_errors_name_file_and_line(tmp_path, case, pattern):
    lines = good_file()
    if case == "empty":
        lines = ["\r\n"]
    elif case == "truncated":
        lines = lines[:40]
        lines[-1] = lines[-1][:10]
    elif case == "fewer_frames":
        lines = lines[:57]
    elif case == "extra_frames":
        lines = lines + lines[1:29]
    elif case == "non_numeric":
        fields = lines[4].split()
        lines[4] = " ".join(fields[:2] + ["abc"] + fields[3:]) + "\r\n"
    elif case == "joint_count":
        lines[3] = "24\r\n"
    elif case == "moved_field":
        head, last = lines[5].rsplit(" ", 1)
        lines[5], lines[6] = head + "\r\n", last.strip() + " " + lines[6]
    elif case == "blank_line":
        lines.insert(2, "\r\n")
    elif case == "odd_spacing":  # right counts of spaces, wrong fields: a tab hides the move
        fields = lines[5].split()
        lines[5] = " " + " ".join(fields[:-1]) + "\r\n"
        lines[6] = fields[-1] + "\t" + lines[6]
    elif case == "bad_count":
        lines[1] = "1.5\r\n"
    path = write(tmp_path, "".join(lines))
    with pytest.raises(DataError, match=pattern) as err:
        parse_skeleton_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        parse_skeleton_file(tmp_path / "nope.skeleton")
    with pytest.raises(DataError, match=r"cannot read NTU skeleton file \(Is a directory\)"):
        parse_skeleton_file(tmp_path)


def test_loader_pads_and_runs_in_a_pool(tmp_path):
    for i, frames in enumerate((4, 7)):
        text = skeleton_text([[(1, person(t, 0.3))] for t in range(frames)])
        write(tmp_path, text, f"S001C001P001R001A00{i + 1}.skeleton")
    files = find_skeleton_files(tmp_path)
    assert list(files) == ["S001C001P001R001A001", "S001C001P001R001A002"]
    seen = []
    keypoint, num_frames, infos = load_ntu_arrays(
        list(files.values()), workers=2, progress=lambda done, total: seen.append((done, total)))
    assert keypoint.shape == (2, 2, 7, 25, 3) and list(num_frames) == [4, 7]
    assert not keypoint[0, :, 4:].any() and keypoint[0, 0, :4].any()
    assert seen[-1] == (2, 2) and infos[1]["sample_id"] == "S001C001P001R001A002"
    short, frames_short, _ = load_ntu_arrays(list(files.values()), max_frames=5)
    assert short.shape[2] == 5 and list(frames_short) == [4, 5]
    np.testing.assert_array_equal(short[1], keypoint[1, :, :5])


def test_find_skeleton_files_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        find_skeleton_files(tmp_path / "nope")
    with pytest.raises(DataError, match=r"holds no NTU \.skeleton files"):
        find_skeleton_files(tmp_path)


# ---- the compiled fast path agrees with the exact path -----------------------------------------

def assert_same_parse(a, b):
    assert a.num_frames == b.num_frames
    np.testing.assert_array_equal(a.bodies_per_frame, b.bodies_per_frame)
    assert [x.body_id for x in a.bodies] == [x.body_id for x in b.bodies]
    for x, y in zip(a.bodies, b.bodies):
        np.testing.assert_array_equal(x.frames, y.frames)
        assert x.joints.dtype == y.joints.dtype == np.float32
        # bitwise: -0.0 and 0.0 must not be confused either
        assert x.joints.tobytes() == y.joints.tobytes() and x.info.tobytes() == y.info.tobytes()


def random_tokens(rng, count):
    """Decimals of up to 15 significant digits, in the spellings NTU and other writers use."""
    out = []
    for _ in range(count):
        digits = "".join(rng.choice(list("0123456789"), rng.integers(1, 16)))
        point = rng.integers(1, len(digits) + 1)
        token = digits[:point] + "." + digits[point:] if rng.random() < 0.8 else digits
        if rng.random() < 0.3:
            token += rng.choice(["e", "E"]) + rng.choice(["", "-", "+"]) + str(rng.integers(0, 8))
        if rng.random() < 0.5:
            token = "-" + token
        out.append(token)
    return out


def test_fast_path_converts_like_float_exactly():
    rng = np.random.default_rng(7)
    lines, expected_info, expected_joints = ["40"], [], []
    for frame in range(40):
        lines += ["1", f"{10**16 + frame} " + " ".join(info := random_tokens(rng, 9)), "25"]
        joints = [random_tokens(rng, 12) for _ in range(25)]
        lines += [" ".join(row) for row in joints]
        expected_info.append([float(10**16 + frame)] + [float(t) for t in info])
        expected_joints.append([[float(t) for t in row] for row in joints])
    data = ("\r\n".join(lines) + "\r\n").encode()
    assert _parse_fast(data) is not None  # the compiled path took it
    fast = parse_skeleton_bytes(data)
    assert [b.body_id for b in fast.bodies] == [10**16 + f for f in range(40)]
    info = np.concatenate([b.info for b in fast.bodies])
    joints = np.concatenate([b.joints for b in fast.bodies])
    assert info.tobytes() == np.array(expected_info).tobytes()
    assert joints.tobytes() == np.array(expected_joints).astype(np.float32).tobytes()
    assert_same_parse(fast, parse_skeleton_bytes(data, fast=False))


def test_fast_path_agrees_on_multi_body_files_with_empty_frames():
    frames = [[] if t < 2 else [(111, person(t, 0.5)), (222, person(t, 0.2, x0=1.0))]
              + ([(111, noise_object(t))] if 5 <= t < 9 else [])  # an id twice in a frame
              for t in range(30)]
    for eol in ("\r\n", "\n"):
        data = skeleton_text(frames, eol).encode()
        assert _parse_fast(data) is not None
        fast = parse_skeleton_bytes(data)
        assert [b.body_id for b in fast.bodies] == [111, 222, 111]
        assert list(fast.bodies[2].frames) == [5, 6, 7, 8]
        assert_same_parse(fast, parse_skeleton_bytes(data, fast=False))


def replace_first_field(line, token):
    return token + " " + line.split(" ", 1)[1]


@pytest.mark.parametrize("case, fast_path_takes_it", [
    ("count spelled 25.0", False), ("nan", False), ("plus sign", True),
    ("more than 18 digits", False), ("tabs and extra spaces", True), ("trailing blank lines", True),
])
def test_unusual_but_valid_files_parse_the_same_either_way(case, fast_path_takes_it):
    lines = good_file()
    if case == "count spelled 25.0":
        lines[3] = "25.0\r\n"
    elif case == "nan":
        lines[4] = replace_first_field(lines[4], "nan")
    elif case == "plus sign":
        lines[4] = "+" + lines[4]
    elif case == "more than 18 digits":
        lines[4] = replace_first_field(lines[4], "1." + "0" * 20)
    elif case == "tabs and extra spaces":
        lines[4] = "  " + lines[4].replace(" ", " \t ")
    elif case == "trailing blank lines":
        lines.append("\r\n\r\n  \r\n")
    data = "".join(lines).encode()
    assert (_parse_fast(data) is not None) == fast_path_takes_it
    assert_same_parse(parse_skeleton_bytes(data), parse_skeleton_bytes(data, fast=False))


# ---- number spellings: the fast path converts exactly like float() -----------------------------

# Every spelling here is taken by the fast path (the 8-byte SWAR reader or its digit-by-digit
# fallback), and must give float()'s double bit for bit.
TAKEN = ["-0", "0", "-0.0", "+1.5", "+0", "5.", ".5", "-.5", "1e5", "1E-5", "2.5e+3", "-7e0",
         "1e22", "1e-22", "123456789012345678", "9007199254740993", "1234567890.123456",
         "0.1234567890123456", "1234567.12345678", "12345678.9", "0.000000001", "-1036.233",
         "0.02764709", "-0.2059419", "72057594037931101", "00012.5000", "9999999.99999999",
         "9999999.9", "-123456.7", "-3.785547", "1234567", "-1234567", "0.12345678", "-.0"]
# Spellings only the exact path reads (the fast path gives up on the file, result the same).
GIVEN_UP = ["1e23", "1e-23", "0.12345678901234567", "1" + "0" * 19, "inf", "1_0"]


def file_with(tokens, eol="\r\n", last_eol=True):
    """One frame, one body; tokens fill the 9 info fields after the body id, then the joints."""
    tokens = list(tokens)
    fields = (tokens * (1 + (9 + 300) // len(tokens)))[: 9 + 300]
    lines = ["1", "1", "42 " + " ".join(fields[:9]), "25"]
    lines += [" ".join(fields[9 + 12 * j: 21 + 12 * j]) for j in range(25)]
    return (eol.join(lines) + (eol if last_eol else "")).encode(), fields


def expect_float_exact(data, fields):
    sf = parse_skeleton_bytes(data)
    body = sf.bodies[0]
    assert body.body_id == 42
    assert body.info[0, 1:].tobytes() == np.array([float(t) for t in fields[:9]]).tobytes()
    expected = np.array([float(t) for t in fields[9:]]).astype(np.float32).reshape(25, 12)
    assert body.joints[0].tobytes() == expected.tobytes()
    assert_same_parse(sf, parse_skeleton_bytes(data, fast=False))


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_fast_path_takes_edge_spellings_and_matches_float(eol):
    for shift in range(len(TAKEN)):  # every token in every field position, near the end too
        data, fields = file_with(TAKEN[shift:] + TAKEN[:shift], eol)
        assert _parse_fast(data) is not None
        expect_float_exact(data, fields)
    data, fields = file_with(TAKEN, eol, last_eol=False)  # no line end after the last number
    assert _parse_fast(data) is not None
    expect_float_exact(data, fields)


@pytest.mark.parametrize("token", GIVEN_UP)
def test_unusual_spellings_fall_back_to_the_exact_path(token):
    data, fields = file_with(["0.5", token, "-3"])
    assert _parse_fast(data) is None
    expect_float_exact(data, fields)


def test_random_long_decimals_and_exponents_match_float():
    """1-17 significant digits and exponents from -30 to 20: whichever path reads them, the
    doubles are float()'s."""
    rng = np.random.default_rng(11)
    tokens = []
    for _ in range(2000):
        digits = "".join(rng.choice(list("0123456789"), rng.integers(1, 18)))
        point = rng.integers(0, len(digits) + 1)
        token = digits[:point] + "." + digits[point:] if rng.random() < 0.7 else digits
        if token == ".":
            token = "0"
        if rng.random() < 0.4:
            token += "e" + str(rng.integers(-30, 21))
        tokens.append(("-" if rng.random() < 0.5 else "") + token)
    for start in range(0, len(tokens), 300):
        data, fields = file_with(tokens[start:start + 300])
        expect_float_exact(data, fields)
    short = [t for t in tokens if "e" not in t and len(t.strip("-").replace(".", "")) <= 15]
    for start in range(0, len(short), 309):
        data, fields = file_with(short[start:start + 309])
        assert _parse_fast(data) is not None  # up to 15 digits, no exponent: always fast
        expect_float_exact(data, fields)


def test_random_ntu_style_numbers_take_the_fast_path_exactly():
    """'%.7g' values over 13 orders of magnitude and 1-9 digit decimals with the point anywhere:
    all on the 8-byte path (or its digit-by-digit fallback), all float()'s doubles."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        tokens = []
        for _ in range(309):
            if rng.random() < 0.4:
                tokens.append("%.7g" % (rng.normal() * 10.0 ** rng.integers(-6, 7)))
                continue
            digits = "".join(rng.choice(list("0123456789"), rng.integers(1, 10)))
            point = rng.integers(0, len(digits) + 1)
            token = digits[:point] + "." + digits[point:] if rng.random() < 0.8 else digits
            tokens.append(("-" if rng.random() < 0.5 else "") + (token if token != "." else "0"))
        data, fields = file_with(tokens)
        assert _parse_fast(data) is not None
        expect_float_exact(data, fields)


def test_fast_path_groups_tracks_like_the_exact_path():
    """Ids that swap order between frames, repeat within a frame, vanish and return: the
    compiled grouping gives the tracks, their order and their frames that the exact path does."""
    frames = [[(5, person(0, 0.5)), (7, person(0, 0.2, x0=1.0))],
              [(7, person(1, 0.2, x0=1.0)), (5, person(1, 0.5))],
              [],
              [(5, person(3, 0.5)), (9, noise_object(3)), (5, noise_object(4)),
               (7, person(3, 0.2))],
              [(5, noise_object(5)), (5, person(4, 0.5))]]
    data = skeleton_text(frames).encode()
    assert _parse_fast(data) is not None
    fast = parse_skeleton_bytes(data)
    assert [(b.body_id, list(b.frames)) for b in fast.bodies] == [
        (5, [0, 1, 3, 4]), (7, [0, 1, 3]), (9, [3]), (5, [3, 4])]
    # the second body 5 of frames 3 and 4, from the text rounded to 7 digits
    np.testing.assert_allclose(fast.bodies[3].joints[0], noise_object(4), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fast.bodies[3].joints[1], person(4, 0.5), rtol=1e-6, atol=1e-6)
    assert_same_parse(fast, parse_skeleton_bytes(data, fast=False))
    empty = b"3\r\n0\r\n0\r\n0\r\n"  # no body at all: no tracks on either path
    assert _parse_fast(empty) is not None
    assert parse_skeleton_bytes(empty).bodies == ()
    assert parse_skeleton_bytes(empty, fast=False).bodies == ()
