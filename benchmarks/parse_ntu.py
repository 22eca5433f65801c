"""Benchmark and cross-check the NTU `.skeleton` parser against a plain line-by-line reference.

    python benchmarks/parse_ntu.py [DIR] [--copies 300] [--workers N]

DIR holds `.skeleton` files; by default the real sample in ../shared/data/ntu-sample is copied
`--copies` times into a temporary folder. Every file is parsed by both parsers and every field
compared; then files/s and MB/s are printed for one core and for a process pool.
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

from bench.data.ntu_skeleton import parse_skeleton_file, to_keypoint  # noqa: E402

SAMPLE = REPO.parent / "shared" / "data" / "ntu-sample" / "S001C001P001R001A001.skeleton"


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


def fast_parse_keypoint(path: Path) -> None:
    to_keypoint(parse_skeleton_file(path))


def same(path: Path) -> bool:
    ref, sf = reference_parse(path), parse_skeleton_file(path)
    if list(ref) != [b.body_id for b in sf.bodies]:
        return False
    for body in sf.bodies:
        frames, joints, info = ref[body.body_id]
        if not (np.array_equal(frames, body.frames)
                and np.array_equal(np.float32(joints), body.joints)
                and np.array_equal(np.float64(info)[:, 1:], body.info[:, 1:])):
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
    """Wall seconds of the fastest of `repeats` passes over all files with a process pool."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with Pool(workers) as pool:
            pool.map(fn, paths, chunksize=max(1, len(paths) // (workers * 8)))
        best = min(best, time.perf_counter() - start)
    return best


def report(title: str, seconds: dict[str, float], files: int, megabytes: float) -> None:
    for label, sec in seconds.items():
        print(f"{title:16s} {label:26s} {files / sec:8.0f} files/s {megabytes / sec:7.1f} MB/s")
    ratio = seconds["reference (line by line)"] / seconds["fast"]
    print(f"{title:16s} speedup of fast over reference: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path)
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tmp = None
    if args.dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="ntu-bench-"))
        for i in range(args.copies):
            shutil.copy(SAMPLE, tmp / f"S001C001P001R001A{i % 120 + 1:03d}-{i}.skeleton")
        args.dir = tmp
    try:
        paths = sorted(args.dir.rglob("*.skeleton"))
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        bad = [p.name for p in paths if not same(p)]
        print(f"{len(paths)} files, {megabytes:.1f} MB; parsers agree on every field: "
              f"{'yes' if not bad else 'NO: ' + ', '.join(bad[:5])}")
        rows = [("reference (line by line)", reference_only), ("fast", fast_parse),
                ("fast + to_keypoint", fast_parse_keypoint)]
        report("1 core", single_core(rows, paths, args.repeats), len(paths), megabytes)
        if args.workers > 1:
            pool = {label: pooled(fn, paths, args.workers, args.repeats) for label, fn in rows}
            report(f"pool of {args.workers}", pool, len(paths), megabytes)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
