"""Load many NTU `.skeleton` files into one zero-padded keypoint array (in memory, or written to a
.npy file a clip at a time), optionally in parallel."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bench.data.ntu.names import NAME_PATTERN, index_by_sample
from bench.data.ntu.skeleton import NUM_JOINTS, parse_skeleton_file, to_keypoint
from bench.data.prepared import PaddedArrayFile, check_clip_frames
from bench.errors import DataError

MAX_BODIES = 2
Progress = Callable[[int, int], None]  # (files done, files in total)


def find_skeleton_files(root: str | os.PathLike) -> dict[str, Path]:
    """Sample name -> path of every `.skeleton` file under root (searched recursively, since
    the official archives unpack into nested folders), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"NTU skeleton directory {root} does not exist")
    found = index_by_sample(root, ".skeleton", "sample")
    if not found:
        raise DataError(f"{root} holds no NTU .skeleton files (expected {NAME_PATTERN}.skeleton)")
    return found


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
    paths = [Path(p) for p in paths]
    num_frames = clip_frames(paths, max_frames)
    out = np.zeros(_padded_shape(num_frames), np.float32)

    def put(i, keypoint):
        out[i, :, :keypoint.shape[1]] = keypoint
    infos = _parse_into(paths, num_frames, max_frames, workers, progress, put)
    return out, num_frames, infos


def write_ntu_keypoint(paths: list[Path], path: Path, max_frames: int | None = None,
                       workers: int = 1, progress: Progress | None = None
                       ) -> tuple[np.ndarray, list[dict]]:
    """As load_ntu_arrays, but the padded array goes straight to the .npy file `path`, one clip
    at a time as files are parsed, so memory holds a file or two, never the array (preparation
    of a large folder); returns the frame counts and infos."""
    paths = [Path(p) for p in paths]
    num_frames = clip_frames(paths, max_frames)
    with PaddedArrayFile(path, _padded_shape(num_frames)) as out:
        infos = _parse_into(paths, num_frames, max_frames, workers, progress, out.put)
    return num_frames, infos


def clip_frames(paths: list[Path], max_frames: int | None = None) -> np.ndarray:
    """Each file's frame count (line 1, cut to max_frames), checked against the clip limit
    before any file is parsed: the padded length must be known before the first clip is
    written. The parser checks the count against the content; a file whose first line is not
    a plain count is parsed here, for its one-line error."""
    if max_frames is not None and max_frames < 1:
        raise DataError(f"max_frames must be at least 1, got {max_frames}")
    counts = []
    for path in paths:
        frames = _header_frames(path)
        if frames is None:
            frames = parse_skeleton_file(path).num_frames
        if max_frames is not None:
            frames = min(frames, max_frames)
        check_clip_frames(path.stem, frames, str(path))
        counts.append(frames)
    return np.array(counts, np.int64)


def _header_frames(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            head = f.read(64).split(b"\n", 1)
    except OSError:
        return None
    if len(head) < 2:
        return None
    try:
        frames = int(head[0].strip())
    except ValueError:
        return None
    return frames if frames >= 0 else None


def _padded_shape(num_frames: np.ndarray) -> tuple[int, ...]:
    longest = int(num_frames.max()) if len(num_frames) else 0
    return len(num_frames), MAX_BODIES, longest, NUM_JOINTS, 3


def _parse_into(paths: list[Path], num_frames: np.ndarray, max_frames: int | None, workers: int,
                progress: Progress | None, put: Callable[[int, np.ndarray], None]) -> list[dict]:
    """Parse each file and hand its clip to put(i, clip) as it comes; the infos, in order."""
    infos = []
    for i, (keypoint, info) in enumerate(_results(paths, max_frames, workers)):
        if keypoint.shape[1] != num_frames[i]:  # only if the file changed since clip_frames
            raise DataError(f"{paths[i]}: {keypoint.shape[1]} frames, but its first line said "
                            f"{num_frames[i]} a moment ago (did the file change?)")
        put(i, keypoint)
        infos.append(info)
        if progress is not None:
            progress(i + 1, len(paths))
    return infos
