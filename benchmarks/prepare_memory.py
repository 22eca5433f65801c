"""Peak memory of data preparation against the data's real size (issue 15: "preparation's peak
memory stays within 2x the data's real size").

Two routes, each measured in a fresh subprocess so nothing cached by an earlier step counts:
  pickle: an annotation pickle -> the prepared folder (bench.data.datasets._open_pickle_source)
  ntu:    a folder of raw NTU .skeleton files -> the prepared folder (datasets._prepared_arrays)
  ntu-write: the same folder -> keypoint.npy by ntu_loader.write_ntu_keypoint alone

Real size: the float32 bytes of every clip at its own length and body count (sum of T x M x 25
x 3 x 4); the prepared keypoint.npy is padded to the longest clip and (NTU) to two bodies, so it
is larger. Peak extra memory is measured twice, in separate runs: the rise of the process's peak
RSS (VmHWM, reset after imports and warm-up) over its RSS then, which includes file pages the
process has mapped (a memmap being written); and tracemalloc's peak (Python and numpy
allocations; numba's arrays and mapped file pages are not in it).

    python benchmarks/prepare_memory.py                       # 500 MB pickle, ~100 MB NTU
    python benchmarks/prepare_memory.py --pickle-mb 50 --ntu-mb 20
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

JOINTS = 25
_MEASURE = r"""
import json, os, sys, time, tracemalloc
from pathlib import Path
route, data, cache = sys.argv[1:4]

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024

import numpy as np
from bench.data import datasets
from bench.data.ntu.loader import write_ntu_keypoint
from bench.data.ntu.skeleton import parse_skeleton_file

def prepare(cache):
    os.environ["BENCH_CACHE"] = cache
    if route == "pickle":
        return datasets._open_pickle_source(Path(data), "ntu25")
    suite = datasets.SUITES.get("ntu60-xsub")
    source = datasets.resolve_source(suite, datasets.suite_ref(suite, data))
    if route == "ntu":
        return datasets._prepared_arrays(source, workers=1)
    out = Path(cache, "prepared", "writer", "keypoint.npy")  # the loader's writer alone
    out.parent.mkdir(parents=True)
    return write_ntu_keypoint([source.files[n] for n in sorted(source.files)], out)

if route != "pickle":
    # compile (or load) the numba parser first: it is not preparation's memory
    parse_skeleton_file(next(Path(data).rglob("*.skeleton")))
result = {}
# RSS first, in a process that has prepared nothing yet; tracemalloc counts every allocation
# made while it traces, whatever the allocator kept from the first run
for mode in ("rss", "trace"):
    if mode == "trace":
        tracemalloc.start()
    else:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            pass  # VmHWM then includes the imports' peak: an overestimate
    base = status("VmRSS:")
    start = time.perf_counter()
    prepare(str(Path(cache, mode)))
    seconds = time.perf_counter() - start
    if mode == "trace":
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        peak = status("VmHWM:") - base
    result[mode] = {"peak": peak, "seconds": seconds}
print(json.dumps(result))
"""


# ---- synthetic inputs --------------------------------------------------------------------------

def clip_shapes(real_bytes: int, seed: int = 0) -> list[tuple[int, int]]:
    """(bodies, frames) per clip, NTU-like: 30-300 frames, a second body in about a third."""
    rng = np.random.default_rng(seed)
    shapes, total = [], 0
    while total < real_bytes:
        m, t = (2 if rng.random() < 1 / 3 else 1), int(rng.integers(30, 301))
        shapes.append((m, t))
        total += m * t * JOINTS * 3 * 4
    return shapes


def ntu_name(i: int) -> str:
    """Distinct NTU60 names over setups 1-17, performers 1-40, actions 1-60."""
    action, rest = i % 60 + 1, i // 60
    cam, rest = rest % 3 + 1, rest // 3
    perf, rest = rest % 40 + 1, rest // 40
    rep, setup = rest % 2 + 1, rest // 2 + 1
    return f"S{setup:03d}C{cam:03d}P{perf:03d}R{rep:03d}A{action:03d}"


def make_pickle(path: Path, real_mb: float) -> int:
    from bench.data.pose.pkl_io import PoseData, write_pose_pickle

    rng = np.random.default_rng(0)
    anns = []
    for i, (m, t) in enumerate(clip_shapes(int(real_mb * 1e6))):
        name = ntu_name(i)
        anns.append({"frame_dir": name, "label": int(name[-3:]) - 1, "total_frames": t,
                     "keypoint": rng.normal(size=(m, t, JOINTS, 3)).astype(np.float32)})
    names = [a["frame_dir"] for a in anns]
    split = {"xsub_train": names[::2], "xsub_val": names[1::2]}
    write_pose_pickle(path, PoseData(split, anns, [f"action {i}" for i in range(60)]))
    return sum(a["keypoint"].nbytes for a in anns)


def skeleton_text(bodies: int, frames: int, seed: int) -> bytes:
    """One raw NTU .skeleton file (the Kinect v2 text format)."""
    rng = np.random.default_rng(seed)
    info = "0 1 1 1 1 0 0.02764709 0.05745083 2"
    lines = [str(frames)]
    for _ in range(frames):
        lines.append(str(bodies))
        for b in range(bodies):
            lines += [f"{72057594037931101 + b} {info}", str(JOINTS)]
            joints = rng.normal(size=(JOINTS, 12))
            joints[:, 0] += 2 * b  # apart, so both bodies count as people
            lines += [" ".join(f"{v:.6g}" for v in row) for row in joints]
    return ("\r\n".join(lines) + "\r\n").encode()


def make_ntu(root: Path, real_mb: float, templates: int = 24) -> int:
    """Files hard-linked from a few templates (writing every file's text would take minutes):
    the parser reads each one in full all the same."""
    shapes = clip_shapes(int(real_mb * 1e6))
    folder = root / "nturgb+d_skeletons"
    folder.mkdir(parents=True)
    made = {}
    real = 0
    for i, _ in enumerate(shapes):
        m, t = shapes[i % templates]
        if i % templates not in made:
            made[i % templates] = folder / f".template{i % templates}"
            made[i % templates].write_bytes(skeleton_text(m, t, i))
        os.link(made[i % templates], folder / f"{ntu_name(i)}.skeleton")
        real += m * t * JOINTS * 3 * 4
    return real


# ---- measuring ---------------------------------------------------------------------------------

def measure(route: str, data: Path, cache: Path | None = None) -> dict:
    """{"rss": {"peak", "seconds"}, "trace": {...}, "stored": keypoint.npy's size, "keypoint":
    its path} of preparing `data` in a fresh subprocess (the cache: a new temporary folder
    unless one is given; the run for each mode gets its own)."""
    with tempfile.TemporaryDirectory(prefix="prepare-memory-cache-") as tmp:
        cache = Path(cache or tmp)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        out = subprocess.run([sys.executable, "-c", _MEASURE, route, str(data), str(cache)],
                             capture_output=True, text=True, env=env)
        if out.returncode:
            raise RuntimeError(f"measuring {route} failed:\n{out.stderr}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["keypoint"] = next(Path(cache, "rss", "prepared").glob("*/keypoint.npy"))
        result["stored"] = result["keypoint"].stat().st_size
        return result


def report(route: str, data: Path, real: int, size: int) -> None:
    r = measure(route, data)
    print(f"{route}: input {size / 1e6:,.0f} MB, real keypoint data {real / 1e6:,.0f} MB, "
          f"keypoint.npy (padded) {r['stored'] / 1e6:,.0f} MB = {r['stored'] / real:.2f}x real")
    for mode, what in (("rss", "peak RSS rise"), ("trace", "tracemalloc peak")):
        peak = r[mode]["peak"]
        print(f"  {what:17s} {peak / 1e6:8,.0f} MB = {peak / real:4.2f}x real  "
              f"({r[mode]['seconds']:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pickle-mb", type=float, default=500, help="real size of the pickle's "
                        "keypoints (0: skip)")
    parser.add_argument("--ntu-mb", type=float, default=100, help="real size of the raw NTU "
                        "folder's keypoints (its text is ~8x larger; 0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prepare-memory-") as tmp:
        tmp = Path(tmp)
        if args.pickle_mb > 0:
            start = time.perf_counter()
            real = make_pickle(tmp / "big.pkl", args.pickle_mb)
            print(f"(made the pickle in {time.perf_counter() - start:.0f} s)")
            report("pickle", tmp / "big.pkl", real, (tmp / "big.pkl").stat().st_size)
        if args.ntu_mb > 0:
            start = time.perf_counter()
            real = make_ntu(tmp / "ntu", args.ntu_mb)
            size = sum(p.stat().st_size for p in (tmp / "ntu").rglob("*.skeleton"))
            print(f"(made the NTU folder in {time.perf_counter() - start:.0f} s)")
            report("ntu", tmp / "ntu", real, size)
            report("ntu-write", tmp / "ntu", real, size)


if __name__ == "__main__":
    main()
