"""Benchmark and cross-check the NTU `.skeleton` parser against a plain line-by-line reference.

    OMP_NUM_THREADS=1 python benchmarks/parse_ntu.py [DIR] [--copies 40] [--workers N]

The files: DIR's `.skeleton` files, or by default the real sample in ../shared/data/ntu-sample
copied `--copies` times plus a generated synthetic NTU120 set (one- and two-person classes,
noise bodies, empty frames). Every file is parsed by both parsers and every field compared;
then files/s and MB/s are printed for one core and for a process pool of all cores, and the
time for the 114,480 files of NTU120 on 8 cores is extrapolated from the single-core rate and
the pool's measured scaling.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.data.ntu.skeleton import (  # noqa: E402
    parse_skeleton_bytes, parse_skeleton_file, to_keypoint)
from bench.data.synthetic.generator import SKELETON_DIR, generate_ntu  # noqa: E402

SAMPLE = REPO.parent / "shared" / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton"
NTU120_FILES = 114_480
REFERENCE = "reference (line by line)"


def reference_parse(path: Path) -> dict:
    """The straightforward way: one line at a time. Returns body id -> (frames, joints, info)."""
    with open(path) as f:
        lines = [line.strip() for line in f]
    at = 0

    def next_line() -> str:
        nonlocal at
        at += 1
        return lines[at - 1]

    bodies: dict[int, tuple[list, list, list]] = {}
    for frame in range(int(next_line())):
        for _ in range(int(next_line())):
            info = next_line().split()
            frames, joints, infos = bodies.setdefault(int(info[0]), ([], [], []))
            frames.append(frame)
            infos.append([float(v) for v in info])
            joints.append([[float(v) for v in next_line().split()]
                           for _ in range(int(next_line()))])
    return bodies


# The timed functions return nothing, so a pool measures parsing, not pickling results back.
def reference_only(path: Path) -> None:
    reference_parse(path)


def fast_parse(path: Path) -> None:
    parse_skeleton_file(path)


def exact_path_parse(path: Path) -> None:
    parse_skeleton_bytes(path.read_bytes(), str(path), fast=False)


def fast_parse_keypoint(path: Path) -> None:
    to_keypoint(parse_skeleton_file(path))


def read_only(path: Path) -> None:
    path.read_bytes()


# The last row shows how much of the bench parser's time is reading the file.
PARSERS = [(REFERENCE, reference_only), ("bench parser", fast_parse),
           ("bench, exact path only", exact_path_parse),
           ("bench parser + to_keypoint", fast_parse_keypoint),
           ("(reading the file only)", read_only)]


def same(path: Path) -> bool:
    """Both bench paths against the reference, every field (the reference keeps the body id
    only as a float in its info rows, so that column is compared through the exact id)."""
    ref = reference_parse(path)
    data = path.read_bytes()
    for sf in (parse_skeleton_bytes(data, str(path)),
               parse_skeleton_bytes(data, str(path), fast=False)):
        if sorted(ref) != sorted({b.body_id for b in sf.bodies}):
            return False
        for body_id, (frames, joints, info) in ref.items():
            mine = [b for b in sf.bodies if b.body_id == body_id]
            got_frames = np.concatenate([b.frames for b in mine])
            order = np.argsort(got_frames, kind="stable")
            if not (np.array_equal(frames, got_frames[order])
                    and np.array_equal(np.float32(joints),
                                       np.concatenate([b.joints for b in mine])[order])
                    and np.array_equal(np.float64(info),
                                       np.concatenate([b.info for b in mine])[order])):
                return False
    return True


def single_core(rows, paths, repeats: int) -> dict[str, float]:
    """Seconds per parser for all files on one core: each file is timed `repeats` times, the
    parsers interleaved, and its fastest time kept, which is robust to other load."""
    best = {label: [float("inf")] * len(paths) for label, _ in rows}
    for _ in range(repeats):
        for i, path in enumerate(paths):
            for label, fn in rows:
                start = time.perf_counter()
                fn(path)
                best[label][i] = min(best[label][i], time.perf_counter() - start)
    return {label: sum(times) for label, times in best.items()}


def pooled(fn, paths, workers: int, repeats: int) -> float:
    """Wall seconds of the fastest of `repeats` passes over all files with a process pool (the
    pool is started, and its workers have parsed once, before the clock starts)."""
    with Pool(workers) as pool:
        pool.map(fn, paths[:workers])
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            pool.map(fn, paths, chunksize=max(1, len(paths) // (workers * 8)))
            best = min(best, time.perf_counter() - start)
    return best


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def report(title: str, seconds: dict[str, float], files: int, megabytes: float) -> None:
    for label, sec in seconds.items():
        print(f"{title:10s} {label:28s} {files / sec:8.0f} files/s {megabytes / sec:7.1f} MB/s"
              f"  x{seconds[REFERENCE] / sec:5.2f}")


def make_files(folder: Path, copies: int) -> None:
    for i in range(copies):
        shutil.copy(SAMPLE, folder / f"S001C001P001R001A{i % 120 + 1:03d}-{i}.skeleton")
    synthetic = generate_ntu(folder / "synthetic", dataset="ntu120",
                             actions=(1, 23, 50, 58, 71, 106, 120), setups=(1, 32),
                             cameras=(1, 2, 3), performers=(1,), replications=(1,))
    print(f"generated {len(list((synthetic / SKELETON_DIR).glob('*.skeleton')))} synthetic "
          "NTU120 files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tmp = None
    if args.dir is None:
        tmp = args.dir = Path(tempfile.mkdtemp(prefix="ntu-bench-"))
        make_files(tmp, args.copies)
    try:
        paths = sorted(args.dir.rglob("*.skeleton"))
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        bad = [p.name for p in paths if not same(p)]  # also compiles the fast path once
        print(f"{len(paths)} files, {megabytes:.1f} MB; both bench paths agree with the "
              f"reference on every field: {'yes' if not bad else 'NO: ' + ', '.join(bad[:5])}")
        print(f"load average before timing: {load()} (other jobs on this machine slow both "
              "parsers; the fastest of --repeats runs per file is kept)")
        one = single_core(PARSERS, paths, args.repeats)
        report("1 core", one, len(paths), megabytes)
        if args.workers > 1:
            pool = {label: pooled(fn, paths, args.workers, args.repeats)
                    for label, fn in PARSERS}
            report(f"{args.workers} cores", pool, len(paths), megabytes)
            scaling = one["bench parser"] / pool["bench parser"] / args.workers
        else:
            scaling = 1.0
        per_file = one["bench parser + to_keypoint"] / len(paths)
        minutes = NTU120_FILES * per_file / (8 * scaling) / 60
        print(f"NTU120 ({NTU120_FILES:,} files like these) on 8 cores, parse + to_keypoint: "
              f"{minutes:.1f} min (single-core rate x 8 x measured pool efficiency "
              f"{scaling:.2f})")
        print(f"load average after timing: {load()}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
