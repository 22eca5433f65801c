"""Load many NTU `.skeleton` files into one zero-padded keypoint array, optionally in parallel."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bench.data.ntu_names import NAME_PATTERN, parse_sample_name
from bench.data.ntu_skeleton import NUM_JOINTS, parse_skeleton_file, to_keypoint
from bench.data.prepared import check_clip_frames
from bench.errors import DataError

MAX_BODIES = 2
Progress = Callable[[int, int], None]  # (files done, files in total)


def find_skeleton_files(root: str | os.PathLike) -> dict[str, Path]:
    """Sample name -> path of every `.skeleton` file under root (searched recursively, since
    the official archives unpack into nested folders), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"NTU skeleton directory {root} does not exist")
    found: dict[str, Path] = {}
    for path in root.rglob("*.skeleton"):
        if path.name.startswith("."):  # e.g. macOS "._" resource files left by unzipping
            continue
        name = parse_sample_name(path.name).name
        if name in found:
            raise DataError(f"NTU sample {name} appears twice under {root}: {found[name]} and "
                            f"{path}; keep one copy")
        found[name] = path
    if not found:
        raise DataError(f"{root} holds no NTU .skeleton files (expected {NAME_PATTERN}.skeleton)")
    return dict(sorted(found.items()))


def _load_one(path: Path, max_frames: int | None) -> tuple[np.ndarray, dict]:
    keypoint, info = to_keypoint(parse_skeleton_file(path), MAX_BODIES)
    if max_frames is not None:
        keypoint = keypoint[:, :max_frames]
    return keypoint, info


def _results(paths: list[Path], max_frames: int | None, workers: int) -> Iterable:
    if workers <= 1 or len(paths) <= 1:
        return (_load_one(p, max_frames) for p in paths)
    # Many small files per task: one round trip per file would cost more than the parse.
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    pool = ProcessPoolExecutor(max_workers=workers)

    def run():
        with pool:
            yield from pool.map(_load_one, paths, [max_frames] * len(paths), chunksize=chunk)
    return run()


def load_ntu_arrays(paths: list[Path], max_frames: int | None = None, workers: int = 1,
                    progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Parse `.skeleton` files into (N, 2, T, 25, 3) float32 x/y/z, zero-padded to the longest
    clip (clips longer than max_frames are cut to their first max_frames frames), the number of
    valid frames (N,), and per file the body-selection info of `to_keypoint`, in input order."""
    if max_frames is not None and max_frames < 1:
        raise DataError(f"max_frames must be at least 1, got {max_frames}")
    paths = [Path(p) for p in paths]
    clips, infos = [], []
    for i, (keypoint, info) in enumerate(_results(paths, max_frames, workers)):
        check_clip_frames(paths[i].stem, keypoint.shape[1], str(paths[i]))
        clips.append(keypoint)
        infos.append(info)
        if progress is not None:
            progress(i + 1, len(paths))
    num_frames = np.array([c.shape[1] for c in clips], np.int64)
    longest = int(num_frames.max()) if len(clips) else 0
    out = np.zeros((len(clips), MAX_BODIES, longest, NUM_JOINTS, 3), np.float32)
    for i, clip in enumerate(clips):
        out[i, :, : clip.shape[1]] = clip
    return out, num_frames, infos
