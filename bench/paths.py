"""Where bench keeps its cache and finds its content folders (baselines/, ablations/, reports/)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """Content-addressed cache for generated data, prepared arrays and converted weights."""
    root = os.environ.get("BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "bench")
    return Path(root)


def content_dir(name: str) -> Path:
    """A top-level content folder: installed as package data (bench/<name>) or in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bench content folder {name!r} not found next to {here}")
