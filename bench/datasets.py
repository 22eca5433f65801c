"""From a suite and a data source to a DataBundle: locate files, build the manifest, load arrays.

A data source is `synthetic` (generated once into the cache, in the real NTU raw format) or a
directory of raw NTU `.skeleton` files. Nothing ever falls back to synthetic data silently.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import BenchError
from bench.paths import cache_root
from bench.specs import SplitManifest, short_hash
from bench.suites import SuiteSpec

SYNTHETIC = "synthetic"
ARRAYS_VERSION = 1  # bump when the prepared-array format changes


@dataclass
class DataSource:
    """Where a suite's samples come from, with the split manifest they form."""

    suite: SuiteSpec
    root: Path
    files: dict  # sample name -> .skeleton path, only the suite's samples
    manifest: SplitManifest
    synthetic: bool

    @property
    def tag(self) -> str:
        """Recorded in every RunSpec: which data the manifest ids refer to."""
        return f"synthetic:{self.root.name}" if self.synthetic else str(self.root)


def default_data_arg(data_root: str | None, data: str | None) -> str:
    """The user's choice: --data synthetic, --data-root DIR, or $BENCH_DATA_ROOT; never a guess."""
    if data and data_root:
        raise BenchError("give either --data synthetic or --data-root DIR, not both")
    if data:
        if data != SYNTHETIC:
            raise BenchError(f"--data {data!r}: expected 'synthetic' (use --data-root DIR for real NTU)")
        return SYNTHETIC
    root = data_root or os.environ.get("BENCH_DATA_ROOT")
    if not root:
        raise BenchError("no data given: pass --data-root DIR (raw NTU .skeleton files), set "
                         "BENCH_DATA_ROOT, or pass --data synthetic")
    return root


def resolve_source(suite: SuiteSpec, data_arg: str) -> DataSource:
    from bench.data.ntu_loader import find_skeleton_files
    from bench.data.ntu_names import parse_sample_name
    from bench.data.splits import make_manifest

    synthetic = data_arg == SYNTHETIC
    if synthetic:
        from bench.data.synthetic import synthetic_root
        root = synthetic_root(suite.synthetic, cache_root())
    else:
        root = Path(data_arg).expanduser().resolve()
        if not root.is_dir():
            raise BenchError(f"data root {root} does not exist: point --data-root (or "
                             f"BENCH_DATA_ROOT) at the folder of NTU .skeleton files")
    files = find_skeleton_files(root)
    max_setup = 17 if suite.dataset == "ntu60" else 32
    files = {name: path for name, path in files.items()
             if parse_sample_name(name).action <= suite.num_actions
             and parse_sample_name(name).setup <= max_setup}
    if not files:
        raise BenchError(f"{root} holds no {suite.dataset.upper()} samples of actions "
                         f"A001-A{suite.num_actions:03d} (expected SsssCcccPpppRrrrAaaa.skeleton)")
    manifest = make_manifest(suite.dataset, suite.protocol, sorted(files))
    return DataSource(suite, root, files, manifest, synthetic)


def load_bundle(source: DataSource, workers: int = 1):
    """Arrays for every manifest sample, prepared once and cached by source and settings."""
    from bench.data.bundle import DataBundle, SkeletonSet
    from bench.data.ntu_classes import class_names

    arrays = _prepared_arrays(source, workers)
    index = {name: i for i, name in enumerate(arrays["names"])}
    descriptions = _descriptions(source.root) if source.synthetic else None

    def split(ids) -> SkeletonSet:
        idx = np.array([index[i] for i in ids], dtype=np.int64)
        labels = np.array([int(i[-3:]) - 1 for i in ids], dtype=np.int64)
        desc = [descriptions[i] for i in ids] if descriptions else None
        return SkeletonSet(list(ids), arrays["keypoint"][idx], arrays["num_frames"][idx],
                           labels, desc)

    m = source.manifest
    return DataBundle(manifest=m, class_names=class_names(source.suite.dataset)[:source.suite.num_actions],
                      layout="ntu25", fps=30.0, train=split(m.train), val=split(m.val),
                      test=split(m.test), synthetic=source.synthetic)


def _prepared_arrays(source: DataSource, workers: int) -> dict:
    from bench.data.ntu_loader import load_ntu_arrays

    names = sorted(source.files)
    stats = [(n, st.st_size, st.st_mtime_ns) for n in names for st in [os.stat(source.files[n])]]
    key = short_hash({"root": str(source.root), "files": stats, "version": ARRAYS_VERSION}, 20)
    target = cache_root() / "prepared" / key
    if not (target / "done").exists():
        keypoint, num_frames, _ = load_ntu_arrays([source.files[n] for n in names],
                                                  workers=workers)
        tmp = target.with_name(f".{key}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "keypoint.npy", keypoint)
        np.save(tmp / "num_frames.npy", num_frames)
        (tmp / "names.json").write_text(json.dumps(names))
        (tmp / "done").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return {"names": json.loads((target / "names.json").read_text()),
            "keypoint": np.load(target / "keypoint.npy", mmap_mode="r"),
            "num_frames": np.load(target / "num_frames.npy")}


def _descriptions(root: Path) -> dict[str, str]:
    path = root / "descriptions.jsonl"
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {row["sample_id"]: row["description"] for row in rows}
