"""Where bench keeps its cache and finds its content folders (baselines/, ablations/, reports/)."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")  # separators and control characters
_MAX_NAME = 120
# content folders installed under another name (bench/suites.py is a module)
_INSTALLED_AS = {"suites": "suite_files"}


def cache_root() -> Path:
    """Content-addressed cache for generated data, prepared arrays and converted weights. It may
    be read-only (a lab's pre-filled cache); what must be written there says so in one line."""
    from bench.errors import BenchError

    given = os.environ.get("BENCH_CACHE")
    root = Path(given or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "bench"))
    if root.exists() and not root.is_dir():
        what = f"BENCH_CACHE={given}" if given else f"the cache folder {root}"
        raise BenchError(f"{what} is a file; expected a folder for bench's cache (set "
                         f"BENCH_CACHE to one)")
    return root


def cache_write_error(path: Path, exc: OSError):
    """The one-line error for a cache that cannot take what must be written to it."""
    from bench.errors import BenchError

    return BenchError(f"cannot write to the cache at {path} ({exc.strerror or exc}); set "
                      f"BENCH_CACHE to a writable folder (a read-only cache works once it holds "
                      f"what this run needs)")


def content_dir(name: str) -> Path:
    """A top-level content folder: installed as package data (bench/<name>) or in a checkout."""
    here = Path(__file__).resolve().parent
    installed = _INSTALLED_AS.get(name, name)
    for candidate in (here / installed, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bench content folder {name!r} not found next to {here}")


def safe_folder_name(name: str) -> str:
    """`name` as exactly one folder name under its parent. Names can come from data files (a
    pickle's split names make its suite name), so `x/../../y` must not climb out of --out: path
    separators and control characters become '_', and a changed, empty, '.'/'..' or overlong
    name gets a hash of the original so that two names never share a folder."""
    cleaned = _NOT_IN_A_NAME.sub("_", name)
    if cleaned == name and cleaned not in ("", ".", "..") and len(cleaned) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned.strip('.')[:_MAX_NAME] or 'unnamed'}-{digest}"
