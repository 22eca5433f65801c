"""The prepared-data cache: memory-mappable arrays keyed by the content of their sources.

A prepared folder `<cache>/prepared/<key>/` holds `.npy` arrays (opened with mmap_mode='r'), a
`meta.json` and a `done` marker. Its key is a hash of the sources' bytes (sha256 of every file,
never its path or mtime: a copied or moved dataset hits the same entry) plus the preparation
settings. It is built in a hidden temporary folder and renamed into place only when complete,
so an interrupted preparation leaves nothing that could be read as a cache entry.

Clips are padded to the longest one, so one very long clip would cost every clip its length
(20,000 frames: 2 GB for a small set). Preparation refuses a clip longer than MAX_CLIP_FRAMES
(10,000 frames, 5.5 min at 30 fps; $BENCH_MAX_FRAMES sets another limit) in one line naming it.
The padded array is written a clip at a time (PaddedArrayFile): preparing a pickle holds the
unpickled file, never the padded array, and ntu_loader.write_ntu_keypoint holds one raw file.

Hashing every byte of a large dataset on every run would cost seconds, so a memo file remembers
each file's sha256 together with its (size, mtime, ctime, inode) stamp; a file is re-hashed only
when its stamp changes. As in git's index, ctime catches a same-size rewrite whose mtime was put
back (os.utime cannot set ctime), and a file changed within RACY_SECONDS of being hashed is not
memoised at all: a second write in the same timestamp tick would leave its stamp unchanged.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bench.errors import DataError
from bench.paths import cache_root, cache_write_error
from bench.specs import file_sha256, short_hash

HASH_MEMO = "file-sha256.json"
DONE = "done"
OWNER = ".owner"  # "<host> <pid>" of the process filling a temporary folder
STALE_PARTIAL_SECONDS = 3600
RACY_SECONDS = 2.0  # a stamp this fresh may not change on a further write: hash again next time
MAX_CLIP_FRAMES = 10_000  # NTU's longest clip is ~300 frames; see the docstring


def max_clip_frames() -> int:
    """The longest clip preparation accepts: $BENCH_MAX_FRAMES, else MAX_CLIP_FRAMES."""
    text = os.environ.get("BENCH_MAX_FRAMES", "").strip()
    if not text:
        return MAX_CLIP_FRAMES
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise DataError(f"BENCH_MAX_FRAMES={text!r}: expected a positive number of frames")
    return limit


def check_clip_frames(sample: str, frames: int, where: str) -> None:
    """Refuse a clip longer than the limit, before anything is padded to its length."""
    limit = max_clip_frames()
    if frames > limit:
        raise DataError(f"{where}: sample {sample} has {frames:,} frames, more than the "
                        f"{limit:,} allowed (every clip is padded to the longest); trim or drop "
                        f"it, or set BENCH_MAX_FRAMES to a higher limit")


def prepared_root() -> Path:
    return cache_root() / "prepared"


def file_digests(paths: Iterable[Path]) -> list[str]:
    """sha256 of each file's bytes, re-hashed only when its (size, mtime, ctime, inode) changed."""
    memo_path = prepared_root() / HASH_MEMO
    memo = _read_memo(memo_path)
    changed = False
    digests = []
    for path in paths:
        key = os.path.abspath(path)
        st = os.stat(key)  # before reading: a write during the hash changes the next stamp
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        entry = memo.get(key)
        if entry is None or entry[0] != stamp:
            entry = [stamp, file_sha256(Path(key))]
            racy = time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_SECONDS * 1e9
            if racy:
                memo.pop(key, None)
            else:
                memo[key] = entry
            changed = True
        digests.append(entry[1])
    if changed:
        try:
            _write_json_atomic(memo_path, memo)
        except OSError:
            pass  # a read-only cache: the memo only saves time, so go on without it
    return digests


def content_digest(files: Iterable[tuple[str, Path]]) -> str:
    """sha256 over (name, sha256 of the bytes) of each (name, path); the name is the sample id,
    so the digest does not depend on where the files are."""
    files = list(files)
    total = hashlib.sha256()
    for (name, _), digest in zip(files, file_digests(path for _, path in files)):
        total.update(f"{name}\0{digest}\n".encode())
    return total.hexdigest()


def prepared_key(kind: str, digest: str, settings: dict) -> str:
    return f"{kind}-{short_hash({'digest': digest, 'settings': settings}, 20)}"


def build_once(key: str, fill: Callable[[Path], None]) -> Path:
    """The folder prepared_root()/key, made by `fill(tmp)` on first use, then renamed into place.

    If fill raises (or the process dies), the temporary folder is removed (or stays hidden as
    `.<key>.*.partial`, never read, until a later preparation removes it as stale) and no entry
    exists."""
    target = prepared_root() / key
    if (target / DONE).exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise cache_write_error(target.parent, exc) from None
    remove_stale_partials(target.parent)
    try:
        (tmp / OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")
        fill(tmp)
        (tmp / OWNER).unlink()
        (tmp / DONE).write_text("")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
        if target.exists() and not (target / DONE).exists():
            shutil.rmtree(target, ignore_errors=True)  # left behind by hand, never by us
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / DONE).exists():  # not another process finishing first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def remove_stale_partials(folder: Path) -> int:
    """Remove the temporary folders that hard-killed preparations left in `folder`: those whose
    owner process on this host is gone, and those (owner unknown or on another host) untouched
    for STALE_PARTIAL_SECONDS. A live owner's folder is kept however old. Returns the count."""
    removed = 0
    for path in folder.glob(".*.partial"):
        if path.is_dir() and _is_stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _is_stale(path: Path) -> bool:
    try:
        host, pid = (path / OWNER).read_text().split()
        if host == socket.gethostname():
            return not _process_alive(int(pid))
    except (OSError, ValueError):
        pass  # no owner file yet (just created) or unreadable: judge by age
    try:
        return time.time() - path.stat().st_mtime > STALE_PARTIAL_SECONDS
    except OSError:
        return False  # removed meanwhile


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


class PaddedArrayFile:
    """A zero-padded (N, M, T, ...) .npy written one clip at a time with pwrite, so preparation
    holds one clip, not the array: written pages go to the page cache and are never mapped into
    this process (a memmap's written pages count in its RSS, and a kernel may back them with
    large folios that take the padding around them along). The file is made at full size as a
    hole; the padding stays a hole, which reads as zeros."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype=np.float32):
        self.shape, self.dtype = tuple(int(n) for n in shape), np.dtype(dtype)
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": self.shape}
        self._file = open(path, "wb")
        try:
            np.lib.format.write_array_header_1_0(self._file, header)
            self._file.flush()
            self.offset = self._file.tell()
            self._file.truncate(self.offset + int(np.prod(self.shape)) * self.dtype.itemsize)
        except BaseException:
            self._file.close()
            raise

    def put(self, i: int, clip: np.ndarray) -> None:
        """Write clip (m, t, ...) into [i, :m, :t]; the rest of row i stays zero."""
        clip = np.ascontiguousarray(clip, dtype=self.dtype)
        m, t = clip.shape[:2]
        if m > self.shape[1] or t > self.shape[2] or clip.shape[2:] != self.shape[3:]:
            raise ValueError(f"clip of shape {clip.shape} does not fit {self.shape}")
        frame = int(np.prod(self.shape[3:])) * self.dtype.itemsize
        for j in range(m):
            if t and clip[j].any():  # an absent body stays a hole
                at = self.offset + (i * self.shape[1] + j) * self.shape[2] * frame
                _pwrite_all(self._file.fileno(), memoryview(clip[j]).cast("B"), at)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "PaddedArrayFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pwrite_all(fd: int, data: memoryview, at: int) -> None:
    while data:
        done = os.pwrite(fd, data, at)
        data, at = data[done:], at + done


def save_arrays(folder: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array))
    (folder / "meta.json").write_text(json.dumps(meta, sort_keys=True))


def load_arrays(folder: Path, names: Iterable[str], mmap: Iterable[str] = ("keypoint",)) -> dict:
    """The arrays of a prepared folder (big ones memory-mapped read-only) and its meta."""
    mmap = set(mmap)
    out = {name: np.load(folder / f"{name}.npy", mmap_mode="r" if name in mmap else None)
           for name in names}
    out["meta"] = json.loads((folder / "meta.json").read_text())
    return out


def _read_memo(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
