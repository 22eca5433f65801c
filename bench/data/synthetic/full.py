"""Synthetic NTU RGB+D at the real size: every available NTU60 (56,578) or NTU120 (113,945)
sample name, written as raw `.skeleton` text fast enough (over 3,000 files/s formatted on one
core; creating the files costs what the file system asks) that the whole NTU120 set takes
minutes. For scale tests of preparation, splits and methods, not for accuracy: every take is a
variation of one of a few templates per action, so classes are far easier than real NTU's.

The small generator (generator.py) runs a motion program per sample; here each action's program
is performed a few times once (a bank of templates, one per variant and camera, noise-free), and
each file is a cheap variation of one: resampled to its own frame count (30-300 frames), scaled to
its performer, turned and moved a little per setup, with joint noise; depth and colour pixels are
projected again from the varied joints (orientations are the template's). Classes stay as
different as their programs. Numbers are written as "%.7g" by a compiled writer, which is where a
Python formatter would spend the time. Two-person actions (A050-A060, A106-A120) have two bodies
in every frame, every other action one; there are no noise bodies or empty frames.

Which names exist comes from the dataset's structure: each setup filmed a fixed group of
performers (SETUP_PERFORMERS), every take with all three cameras, twice (R001, R002), for the 60
actions of its half (A001-A060 in S001-S017, A061-A120 in S018-S032); minus the official list of
samples with missing skeletons.

Layout of a generated root (as generator.py):
  nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton
  descriptions.jsonl   {"sample_id", "label", "description", "parts", "persons"} (the template's)
  meta.json            generator, version, parameters, sample count (written last)
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from bench.data.ntu.missing_skeletons import missing_skeleton_samples
from bench.data.synthetic.generator import (DESCRIPTIONS_FILE, META_FILE, SKELETON_DIR,
                                            generate_once, perform_scene, setup_camera)
from bench.data.synthetic.skeleton import capture_body, draw_performer
from bench.errors import BenchError

GENERATOR_VERSION = "1"
VARIANTS = 4  # performances per action in the template bank
CACHE_DIR = "synthetic-full"
DATASETS = ("ntu60", "ntu120")
MIN_FRAMES, MAX_FRAMES = 30, 300
TWO_PERSON = tuple(range(50, 61)) + tuple(range(106, 121))

# Performers filmed in each setup (NTU RGB+D 120; S001-S017 are NTU RGB+D 60).
SETUP_PERFORMERS = {
    1: (1, 2, 3, 4, 5, 6, 7, 8), 2: (3, 7, 8, 9, 10, 11, 12, 13, 14),
    3: (1, 2, 7, 8, 15, 16, 17, 18, 19), 4: (3, 7, 8, 20), 5: (4, 10, 13, 15, 16, 17, 18, 21),
    6: (1, 7, 8, 15, 16, 17, 19, 22, 23, 24), 7: (1, 7, 8, 15, 16, 17, 18, 19, 25, 26, 27, 28),
    8: (1, 7, 8, 15, 19, 25, 29, 30, 31, 32, 33, 34, 35, 36), 9: (7, 8, 15, 16, 17, 19, 25),
    10: (7, 8, 13, 15, 16, 17, 18, 19, 21, 25),
    11: (1, 2, 7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 38),
    12: (7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 37), 13: (7, 8, 15, 16, 17, 18, 19, 25, 27, 28, 37),
    14: (7, 8, 15, 17, 19, 25, 27, 37, 39), 15: (7, 8, 15, 16, 17, 19, 25, 37),
    16: (7, 8, 19, 21, 25, 39, 40), 17: (3, 7, 8, 9, 15, 16, 17, 20),
    18: (8, 41, 42, 43, 44, 45), 19: (8, 41, 42, 46, 47, 48, 49, 50, 51),
    20: (8, 41, 43, 44, 52, 53, 54), 21: (55, 56, 57, 58, 59, 60),
    22: (61, 62, 63, 64, 65, 66, 67), 23: tuple(range(55, 69)),
    24: (57, 60, 61, 62, 63, 64, 67), 25: (55, 56, 58, 59, 65, 66, 68),
    26: (8, 41, 44, 49, 50, 51, 69, 70, 71, 72, 74, 75, 76, 77),
    27: (6, 8, 11, 41, 43, 44, 78, 79, 80, 81, 82, 83, 84, 85, 86),
    28: (8, 41, 42, 43, 46, 48, 70, 73, 87),
    29: (6, 8, 41, 43, 44, 48, 49, 51, 67, 74, 75, 80, 88, 89, 90),
    30: (8, 11, 41, 43, 44, 48, 67, 75, 76, 81, 85, 88, 91, 92, 93, 94, 95, 96),
    31: (6, 8, 41, 42, 43, 44, 51, 67, 82, 85, 96, 97, 98, 99, 100, 101),
    32: (8, 41, 43, 44, 67, 102, 103, 104, 105, 106),
}
_LAST_SETUP = {"ntu60": 17, "ntu120": 32}


# ---- the names -------------------------------------------------------------------------------

def recorded_names(dataset: str) -> list[str]:
    """Every sample the dataset recorded (56,880 / 114,480), sorted."""
    _check_dataset(dataset)
    names = []
    for setup in range(1, _LAST_SETUP[dataset] + 1):
        first = 1 if setup <= 17 else 61
        for cam in (1, 2, 3):
            for performer in SETUP_PERFORMERS[setup]:
                for rep in (1, 2):
                    prefix = f"S{setup:03d}C{cam:03d}P{performer:03d}R{rep:03d}A"
                    names += [f"{prefix}{a:03d}" for a in range(first, first + 60)]
    return sorted(names)


def available_names(dataset: str) -> list[str]:
    """The recorded samples minus the official missing-skeleton list (56,578 / 113,945)."""
    missing = missing_skeleton_samples(dataset)
    return [n for n in recorded_names(dataset) if n not in missing]


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise BenchError(f"full-size synthetic data exists for NTU RGB+D only; got dataset "
                         f"{dataset!r}, expected one of {', '.join(DATASETS)}")


# ---- the cache --------------------------------------------------------------------------------

def params_key(dataset: str, seed: int) -> str:
    canonical = json.dumps({"dataset": dataset, "seed": seed, "version": GENERATOR_VERSION},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def full_synthetic_root(dataset: str, cache_root: str | os.PathLike, seed: int = 0,
                        workers: int | None = None, progress=None) -> Path:
    """cache_root/synthetic-full/<hash of dataset, seed, version>, generated on first use (a
    folder of its own, never mistaken for the small synthetic set of `--data synthetic`)."""
    _check_dataset(dataset)
    root = Path(cache_root) / CACHE_DIR / params_key(dataset, seed)
    return generate_once(root, is_complete, lambda: generate_full(
        root, dataset, seed=seed, workers=workers, progress=progress))


def is_complete(root: str | os.PathLike) -> bool:
    """meta.json (written last) agrees with the files present."""
    root = Path(root)
    try:
        meta = json.loads((root / META_FILE).read_text())
        with os.scandir(root / SKELETON_DIR) as entries:
            files = sum(1 for e in entries if e.name.endswith(".skeleton"))
    except (OSError, ValueError):
        return False
    return meta.get("generator_version") == GENERATOR_VERSION and \
        meta.get("generator") == __name__ and files == meta.get("num_samples")


def generate_full(out_dir: str | os.PathLike, dataset: str, seed: int = 0,
                  names: list[str] | None = None, workers: int | None = None,
                  progress=None) -> Path:
    """Write the dataset (or just `names` of it) to out_dir, which must not exist; built in a
    temporary folder next to it and renamed at the end. progress(done, total) if given."""
    _check_dataset(dataset)
    names = available_names(dataset) if names is None else sorted(names)
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise BenchError(f"{out_dir} already exists; choose a new folder for synthetic data")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial",
                                dir=out_dir.parent))
    try:
        start = time.perf_counter()
        total_bytes, records = write_files(tmp / SKELETON_DIR, names, seed, workers, progress)
        with open(tmp / DESCRIPTIONS_FILE, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
        meta = {"generator": __name__, "generator_version": GENERATOR_VERSION,
                "params": {"dataset": dataset, "seed": seed}, "num_samples": len(names),
                "bytes": total_bytes, "seconds": round(time.perf_counter() - start, 1),
                "layout": "ntu25", "skeleton_dir": SKELETON_DIR, "synthetic": True}
        (tmp / META_FILE).write_text(json.dumps(meta, sort_keys=True) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def write_files(folder: Path, names: list[str], seed: int = 0, workers: int | None = None,
                progress=None) -> tuple[int, list[dict]]:
    """Write one `.skeleton` file per name into folder; returns (bytes written, description
    records in name order). Several processes when workers (default: all cores) > 1."""
    folder.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(names) // 256 or 1))
    step = 512  # names per task: small enough for a smooth progress line
    chunks = [names[i:i + step] for i in range(0, len(names), step)]
    total, records, done = 0, [], 0
    if workers == 1:
        results = (_write_chunk(str(folder), chunk, seed) for chunk in chunks)
    else:
        warm_up(names, seed)  # forked workers inherit the templates and the compiled writer
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_write_chunk, [str(folder)] * len(chunks), chunks,
                           [seed] * len(chunks))
    try:
        for size, recs in results:
            total += size
            records += recs
            done += len(recs)
            if progress is not None:
                progress(done, len(names))
    finally:
        if workers > 1:
            pool.shutdown(cancel_futures=True)
    return total, records


def warm_up(names: list[str], seed: int) -> None:
    """Build the templates of the names' actions and compile the writer (seconds)."""
    for action in sorted({int(n[-3:]) for n in names}):
        _bank(seed, action)
    skeleton_bytes(names[0], seed)


# ---- one file -----------------------------------------------------------------------------

def _write_chunk(folder: str, names: list[str], seed: int) -> tuple[int, list[dict]]:
    buf = np.empty(1 << 20, np.uint8)
    total, records = 0, []
    for name in names:
        text, record = skeleton_bytes(name, seed, buf)
        with open(os.path.join(folder, name + ".skeleton"), "wb") as f:
            f.write(text)
        total += len(text)
        records.append(record)
    return total, records


def skeleton_bytes(name: str, seed: int = 0, buf: np.ndarray | None = None):
    """(the `.skeleton` file of sample `name` as a memoryview into buf, its description record).
    Deterministic in (name, seed)."""
    s, c, p, r, a = (int(name[i:i + 3]) for i in (1, 5, 9, 13, 17))
    template = _bank(seed, a)[(p + r) % VARIANTS]
    u = _uniforms(seed, name)
    size = _performer(seed, p)[0]
    yaw, shift = _setup_view(seed, s, c)
    frames = frame_count(name, seed)
    rows = template["rows"][c]
    need = frames * (8 + len(rows) * (120 + 25 * 12 * 16))
    if buf is None or len(buf) < need:
        buf = np.empty(max(need, 1 << 20), np.uint8)
    # the take's own spot: a few centimetres around the setup's
    shift = (shift[0] + 0.1 * (u[2] - 0.5), shift[1], shift[2] + 0.1 * (u[3] - 0.5))
    n = _render(buf, rows, *template["tails"][c], template["hands"], template["centre"][c],
                frames, size, np.cos(yaw), np.sin(yaw), shift[0], shift[1], shift[2],
                1000 + int(u[4] * 89000), int(u[5] * 2.0 ** 62) | 1)
    record = {"sample_id": name, "label": a - 1, "description": template["description"],
              "parts": template["parts"], "persons": len(rows)}
    return memoryview(buf)[:n], record


def _uniforms(seed: int, name: str, count: int = 7) -> list[float]:
    """count uniform numbers in [0, 1) keyed by (seed, name) alone (a hash: cheaper per file
    than seeding a numpy generator)."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8 * count).digest()
    return [int.from_bytes(digest[8 * i:8 * i + 8], "little") / 2.0 ** 64 for i in range(count)]


def frame_count(name: str, seed: int = 0) -> int:
    """A take's length: log-normal (sd 0.22) about its action's typical length at its
    performer's tempo; one take in fifty is two to three times longer. Clipped to 30..300."""
    u = _uniforms(seed, name)
    typical = _typical_frames(seed, int(name[17:20])) / _performer(seed, int(name[9:12]))[1]
    normal = math.sqrt(-2 * math.log(1 - u[0])) * math.cos(2 * math.pi * u[1])
    frames = typical * math.exp(0.22 * normal)
    if u[6] < 0.02:
        frames *= 2 + 50 * u[6]
    return int(min(max(round(frames), MIN_FRAMES), MAX_FRAMES))


@functools.lru_cache(maxsize=None)
def _typical_frames(seed: int, action: int) -> float:
    """An action's typical length at a performer's usual tempo: 40 to 110 frames."""
    return 40 + 70 * float(np.random.default_rng([seed, 6, action]).random())


@functools.lru_cache(maxsize=None)
def _performer(seed: int, performer: int) -> tuple[float, float]:
    """(body size factor, habitual tempo) of a performer."""
    rng = np.random.default_rng([seed, 7, performer])
    return float(rng.uniform(0.9, 1.1)), float(rng.uniform(0.8, 1.25))


@functools.lru_cache(maxsize=None)
def _setup_view(seed: int, setup: int, cam: int) -> tuple[float, tuple]:
    """(yaw in radians, shift x y z in metres) of this setup's camera against the template's."""
    rng = np.random.default_rng([seed, 8, setup, cam])
    shift = (rng.normal(0, 0.15), rng.normal(0, 0.08), rng.normal(0, 0.3))
    return float(np.radians(rng.uniform(-10, 10))), tuple(map(float, shift))


# ---- the template bank --------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _bank(seed: int, action: int) -> list[dict]:
    """VARIANTS noise-free performances of `action` by different performers, each filmed by
    the three cameras of setup 1: rows (B, T0, 303) per camera as capture_body gives them,
    and the centre (x, z) of the spine base over the take, about which a file turns it."""
    out = []
    for k in range(VARIANTS):
        people = [draw_performer(np.random.default_rng([seed, 9, action, k, j])) for j in (1, 2)]
        scene = perform_scene(seed, (1, 100 + k, 1 + k % 2, action), people, 30.0)
        rng = np.random.default_rng([seed, 10, action, k])
        rows, hands, centre, tails = {}, None, {}, {}
        for cam in (1, 2, 3):
            camera = setup_camera(seed, 1, cam)
            bodies = [capture_body(w, camera.rotation, camera.position, rng, np.arange(len(w)),
                                   noise=0.0) for w in scene["world"]]
            rows[cam] = np.ascontiguousarray(np.stack([b["rows"] for b in bodies]), np.float64)
            hands = np.array([b["hands"] for b in bodies], np.int64)
            centre[cam] = rows[cam][:, :, 3:6].reshape(-1, 3).mean(0)[[0, 2]].copy()
            tails[cam] = _format_tails(rows[cam])
        out.append({"rows": rows, "hands": hands, "centre": centre, "tails": tails,
                    "description": scene["description"], "parts": scene["parts"]})
    return out
# ---- the text -------------------------------------------------------------------------------
# One compiled pass per file: resample the template, vary it, write the text. Helpers are
# inlined: numba reference-counts arrays passed to a called function, which per number would
# cost more than the formatting.

_POW10 = np.array([10.0 ** k for k in range(23)])
_POW10F = np.array([10.0 ** k for k in range(-5, 8)], np.float32)  # 10^(e+1) at index e + 6
_NOISE = 0.008  # metres of tracking noise per coordinate


@njit(inline="always")
def _put_int(buf, pos, value):
    n, rest = 1, value // 10
    while rest > 0:
        n += 1
        rest //= 10
    end = pos + n
    while True:
        end -= 1
        buf[end] = 48 + value % 10
        value //= 10
        if value == 0:
            break
    return pos + n


_U = np.uint64


@njit(inline="always")
def _digits8(m):
    """The 8 decimal digits of m < 10^8 in one word, byte i the i-th digit (0-9), most
    significant first: split into 4-digit, 2-digit, 1-digit lanes by multiply-and-shift (SWAR),
    instead of eight dependent divisions."""
    hi = m // _U(10000)
    v = hi | ((m - hi * _U(10000)) << _U(32))
    q = ((v * _U(10486)) >> _U(20)) & _U(0x0000007F0000007F)  # x // 100 for x < 10^4
    v = q | ((v - q * _U(100)) << _U(16))
    q = ((v * _U(103)) >> _U(10)) & _U(0x000F000F000F000F)  # x // 10 for x < 100
    return q | ((v - q * _U(10)) << _U(8))


@intrinsic
def _store8(typingctx, buf, pos, word):
    """Write the 8 bytes of word (little-endian) at buf[pos:pos + 8], unaligned."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(64).as_pointer())
        builder.store(args[2], pointer, align=1)
        return context.get_dummy_value()
    return types.void(buf, types.intp, types.uint64), codegen


@intrinsic
def _load8(typingctx, data, pos):
    """The 8 bytes at data[pos:pos + 8] as one little-endian word, unaligned."""
    def codegen(context, builder, signature, args):
        base = context.make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(base, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(pointer, align=1)
    return types.uint64(data, types.intp), codegen


@intrinsic
def _float_bits(typingctx, value):
    """The bits of a float32, as an unsigned integer."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.uint32(types.float32), codegen


@intrinsic
def _leading_zeros(typingctx, word):
    def codegen(context, builder, signature, args):
        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 0))
    return types.uint64(types.uint64), codegen


_ASCII_ZEROS = 0x3030303030303030
_ZERO_POINT = 0x303030303030_2E30  # "0.000000"
_OTHER = 99


@njit(inline="always")
def _g7_parts(value):
    """The parts of value's "%.7g" text that do not depend on where it goes: (sign, decade e,
    the 7 digits in one word, the first in the lowest byte, zero digits at its end). e is
    _OTHER for zero, NaN and magnitudes outside 1e-5..1e7, which _put_g7 writes the slow way.
    Kept apart from the writing, so that the numbers of a line are worked out independently
    of each other (the CPU overlaps them) and only the cheap stores follow the position."""
    magnitude = abs(np.float32(value))
    e = ((np.int64(_float_bits(magnitude) >> 23) - 127) * 1233) >> 12  # ~ log10(2^exponent)
    if not -5 <= e <= 6:  # outside 1e-5..1e7 (roughly), or zero or NaN
        return 0, _OTHER, _U(0), _U(0)
    e += magnitude >= _POW10F[e + 6]  # one short, or right
    if e == 7:
        return 0, _OTHER, _U(0), _U(0)
    m = _U(np.int64(magnitude * _POW10[6 - e] + 0.5))  # 6 - e is 0..11
    if m >= _U(10_000_000):  # rounded up to the next decade
        m = (m + _U(5)) // _U(10)
        e += 1
        if e == 7:
            return 0, _OTHER, _U(0), _U(0)
    word = _digits8(m) >> _U(8)  # the 7 digits, then a zero byte
    return np.int64(value < 0), e, word, (_leading_zeros(word) >> _U(3)) - _U(1)


@njit(inline="always")
def _put_parts(buf, pos, sign, e, word, zeros):
    """Write a number from its _g7_parts (e in -5..6) at pos; return the position after it.
    ddd.ddd (e >= 0: digits 0..e, the point, the rest a byte up) or 0.000ddd (e < 0:
    "0.000000", then the digits from byte 1 - e): both made, one selected, no branch."""
    buf[pos] = 45  # a minus sign, kept only for a negative value
    pos += sign
    ee = max(e, 0)
    low = (_U(1) << _U(8 * ee + 8)) - _U(1)
    ascii = word | _U(_ASCII_ZEROS)
    pointed = (ascii & low) | (_U(46) << _U(8 * ee + 8)) | ((ascii & ~low) << _U(8))
    _store8(buf, pos, _U(_ZERO_POINT))
    _store8(buf, pos + (1 - e if e < 0 else 0), ascii if e < 0 else pointed)
    frac = _U(6 - ee)
    keep = np.int64(frac - min(zeros, frac))
    return pos + (8 - e - np.int64(zeros) if e < 0 else ee + 1 + (keep + 1 if keep > 0 else 0))


@njit(inline="always")
def _put_g7(buf, pos, value):
    """value as C's "%.7g" writes it (seven significant digits, trailing zeros dropped; the
    last digit may differ by one where the scaling rounds): the format of real NTU files."""
    sign, e, word, zeros = _g7_parts(value)
    if e != _OTHER:
        return _put_parts(buf, pos, sign, e, word, zeros)
    if value == 0.0 or value != value:
        buf[pos] = 48
        return pos + 1
    if value < 0:
        buf[pos] = 45
        pos += 1
        value = -value
    e = 0  # d.dddddde+07, as %g
    if value >= 1.0:
        while e < 30 and value >= 10.0 ** (e + 1):
            e += 1
    else:
        e = -1
        while e > -30 and value * 10.0 ** (-e) < 1.0:
            e -= 1
    m = _U(np.int64(value * 10.0 ** (6 - e) + 0.5))
    if m >= _U(10_000_000):
        m = (m + _U(5)) // _U(10)
        e += 1
    word = _digits8(m) >> _U(8)
    digits = 8 - np.int64(_leading_zeros(word) >> _U(3))
    ascii = word | _U(_ASCII_ZEROS)
    _store8(buf, pos, (ascii & _U(0xFF)) | (_U(46) << _U(8)) | ((ascii & ~_U(0xFF)) << _U(8)))
    pos += digits + (digits > 1)
    buf[pos] = 101
    buf[pos + 1] = 45 if e < 0 else 43
    e = abs(e)
    if e < 10:
        buf[pos + 2] = 48
        return _put_int(buf, pos + 3, e)
    return _put_int(buf, pos + 2, e)


@njit(inline="always")
def _line_end(buf, pos):
    buf[pos] = 13
    buf[pos + 1] = 10
    return pos + 2


@njit(inline="always")
def _normal(state):
    """(an approximately standard normal number, the next state): one xorshift64* step, its
    four 16-bit parts summed (Irwin-Hall) and scaled to unit variance."""
    state ^= state >> _U(12)
    state ^= state << _U(25)
    state ^= state >> _U(27)
    r = state * _U(2685821657736338717)
    total = (r & _U(0xFFFF)) + ((r >> _U(16)) & _U(0xFFFF)) + ((r >> _U(32)) & _U(0xFFFF)) \
        + (r >> _U(48))
    return (float(total) * (1.0 / 65536.0) - 2.0) * 1.7320508075688772, state


@njit(cache=True)
def _format_tails(rows):
    """The end of every joint line of a template, " qw qx qy qz state\\r\\n" (its orientation
    and tracking state), written once: (text, start of each (body, frame, joint)'s piece, with
    one more start at the end). Files copy them from the nearest template frame."""
    bodies, length = rows.shape[0], rows.shape[1]
    text = np.empty(bodies * length * 25 * 64 + 8, np.uint8)
    starts = np.empty(bodies * length * 25 + 1, np.int64)
    pos, n = 0, 0
    for b in range(bodies):
        for t in range(length):
            for j in range(25):
                starts[n] = pos
                n += 1
                for k in range(3 + 12 * j + 7, 3 + 12 * j + 11):
                    buf_pos = pos
                    text[buf_pos] = 32
                    pos = _put_g7(text, buf_pos + 1, np.float32(rows[b, t, k]))
                text[pos] = 32
                text[pos + 1] = 48 + int(rows[b, t, 3 + 12 * j + 11])
                pos = _line_end(text, pos + 2)
    starts[n] = pos
    return text[:pos + 8].copy(), starts


@njit(cache=True)
def _render(buf, rows, tails, starts, hands, centre, frames, size, cos, sin, sx, sy, sz, body_id,
            seed):
    """Write the `.skeleton` text of a take into buf; return its length. rows (B, T0, 303) is a
    template as capture_body gives it (clipped edges, lean x, lean y, 25 x [x y z, depth xy,
    colour xy, orientation wxyz, state]). It is resampled to `frames` (linear), each body
    scaled by `size` about its spine base, the scene turned (cos, sin) about the vertical
    through centre (x, z) and moved by (sx, sy, sz), and noise added; depth and colour pixels
    are projected from the result; orientations and states are the nearest template frame's,
    copied from its tails (_format_tails). Every body is in every frame."""
    bodies, length = rows.shape[0], rows.shape[1]
    state = np.uint64(seed)
    cx, cz = centre[0], centre[1]
    values = np.empty(7, np.float32)  # the numbers of a joint line worked out per file
    signs, decades = np.empty(7, np.int64), np.empty(7, np.int64)
    words, zeros = np.empty(7, np.uint64), np.empty(7, np.uint64)
    pos = _line_end(buf, _put_int(buf, 0, frames))
    for t in range(frames):
        at = t * (length - 1) / max(frames - 1, 1)
        i = min(int(at), length - 2)
        w = at - i
        near = i + 1 if w > 0.5 else i
        pos = _line_end(buf, _put_int(buf, pos, bodies))
        for b in range(bodies):
            r0, r1 = rows[b, i], rows[b, i + 1]
            pos = _put_int(buf, pos, np.int64(72057594037927936 + body_id + 37 * b))
            buf[pos] = 32
            pos = _put_int(buf, pos + 1, np.int64(rows[b, near, 0]))
            for value in (1, hands[b, 0], 1, hands[b, 1], 0):  # confidences, states, restricted
                buf[pos] = 32
                pos = _put_int(buf, pos + 1, value)
            for k in (1, 2):  # lean x, lean y
                buf[pos] = 32
                pos = _put_g7(buf, pos + 1, r0[k] + w * (r1[k] - r0[k]))
            buf[pos] = 32
            buf[pos + 1] = 50
            pos = _line_end(buf, pos + 2)
            buf[pos] = 50
            buf[pos + 1] = 53
            pos = _line_end(buf, pos + 2)
            bx, by, bz = (r0[3] + w * (r1[3] - r0[3]), r0[4] + w * (r1[4] - r0[4]),
                          r0[5] + w * (r1[5] - r0[5]))
            for j in range(25):
                o = 3 + 12 * j
                x = bx + size * (r0[o] + w * (r1[o] - r0[o]) - bx) - cx
                y = by + size * (r0[o + 1] + w * (r1[o + 1] - r0[o + 1]) - by)
                z = bz + size * (r0[o + 2] + w * (r1[o + 2] - r0[o + 2]) - bz) - cz
                nx, state = _normal(state)
                ny, state = _normal(state)
                nz, state = _normal(state)
                x, z = cos * x + sin * z + cx + sx + _NOISE * nx, \
                    max(-sin * x + cos * z + cz + sz + _NOISE * nz, 0.5)
                y += sy + _NOISE * ny
                x, y, z = np.float32(x), np.float32(y), np.float32(z)
                inv = 1.0 / z
                values[0], values[1], values[2] = x, y, z
                values[3] = 366.5 * x * inv + 256.0  # depth and colour pixels
                values[4] = -366.7 * y * inv + 208.1
                values[5] = 1055.8 * x * inv + 75.9 * inv + 955.3
                values[6] = -1056.5 * y * inv + 567.1
                for k in range(7):  # first every number's parts, independently ...
                    signs[k], decades[k], words[k], zeros[k] = _g7_parts(values[k])
                for k in range(7):  # ... then the stores, one after the other
                    if decades[k] == _OTHER:
                        pos = _put_g7(buf, pos, values[k])
                    else:
                        pos = _put_parts(buf, pos, signs[k], decades[k], words[k], zeros[k])
                    buf[pos] = 32
                    pos += 1
                piece = (b * length + near) * 25 + j
                start, size_ = starts[piece], starts[piece + 1] - starts[piece]
                for k in range(0, size_, 8):  # the tail, 8 bytes at a time
                    _store8(buf, pos - 1 + k, _load8(tails, start + k))
                pos += size_ - 1
    return pos
