"""The official NTU RGB+D evaluation protocols, and split manifests with a seeded validation set.

X-Sub splits by performer, X-View by camera (NTU60), X-Set by setup (NTU120). The id lists are
the official ones (as published with the datasets and used by MMAction2 and CTR-GCN).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from bench.data.ntu.names import SampleName, parse_sample_name
from bench.errors import BenchError, DataError
from bench.specs import SplitManifest

NTU60_XSUB_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34,
                             35, 38)
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
# NTU120 extends the NTU60 list: for NTU60 names (P001-P040) both lists split identically.
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86,
    89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
NTU120_XSET_TRAIN_SETUPS = tuple(range(2, 33, 2))

# Setups and actions of each dataset: NTU60 is S001-S017 x A001-A060.
DATASET_LIMITS = {"ntu60": (17, 60), "ntu120": (32, 120)}
PROTOCOLS = {"ntu60": ("xsub", "xview"), "ntu120": ("xsub", "xset", "xview")}


def _is_train(sample: SampleName, protocol: str, dataset: str) -> bool:
    if protocol == "xsub":
        subjects = NTU60_XSUB_TRAIN_SUBJECTS if dataset == "ntu60" else NTU120_XSUB_TRAIN_SUBJECTS
        return sample.performer in subjects
    if protocol == "xview":
        return sample.camera in NTU60_XVIEW_TRAIN_CAMERAS
    return sample.setup in NTU120_XSET_TRAIN_SETUPS  # xset


def _check_protocol(dataset: str, protocol: str) -> None:
    if dataset not in PROTOCOLS:
        raise BenchError(f"unknown NTU dataset {dataset!r}; expected one of {sorted(PROTOCOLS)}")
    if protocol not in PROTOCOLS[dataset]:
        raise BenchError(f"unknown protocol {protocol!r} for {dataset}; expected one of "
                         f"{list(PROTOCOLS[dataset])}")


def _parse_all(names: Iterable[str], dataset: str) -> list[SampleName]:
    """Parsed names sorted by name; duplicates and names outside the dataset are errors."""
    max_setup, max_action = DATASET_LIMITS[dataset]
    samples = sorted((parse_sample_name(n) for n in names), key=lambda s: s.name)
    for a, b in zip(samples, samples[1:]):
        if a == b:
            raise DataError(f"sample {a.name} is listed twice")
    for s in samples:
        if s.setup > max_setup or s.action > max_action:
            raise DataError(f"sample {s.name} is not part of {dataset} "
                            f"(setups S001-S{max_setup:03d}, actions A001-A{max_action:03d})")
    return samples


def _split(names: Iterable[str], protocol: str, dataset: str):
    _check_protocol(dataset, protocol)
    train, test = [], []
    for sample in _parse_all(names, dataset):
        (train if _is_train(sample, protocol, dataset) else test).append(sample)
    return train, test


def split_names(names: Iterable[str], protocol: str,
                dataset: str = "ntu120") -> tuple[list[str], list[str]]:
    """(train, test) sample names, each sorted, under an official protocol."""
    train, test = _split(names, protocol, dataset)
    return [s.name for s in train], [s.name for s in test]


def seeded_order(keys: Iterable, seed: int) -> list:
    """Keys in a pseudo-random order fixed by the seed alone (hash-based, so it does not
    depend on the numpy or Python version)."""
    return sorted(keys, key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).digest())


def count_held_out(n: int, fraction: float) -> int:
    """About `fraction` of n, at least one, but never all of them."""
    if fraction <= 0 or n < 2:
        return 0
    return min(max(1, round(fraction * n)), n - 1)


def make_manifest(dataset: str, protocol: str, names: Iterable[str], val_fraction: float = 0.1,
                  seed: int = 0) -> SplitManifest:
    """The manifest of an official split; val is carved out of train only: whole training
    performers for X-Sub (about val_fraction of them), else about val_fraction of the samples."""
    if not 0 <= val_fraction < 1:
        raise BenchError(f"val_fraction must be in [0, 1), got {val_fraction}")
    train, test = _split(names, protocol, dataset)
    if protocol == "xsub":
        subjects = sorted({s.performer for s in train})
        held = set(seeded_order(subjects, seed)[: count_held_out(len(subjects), val_fraction)])
        val = [s.name for s in train if s.performer in held]
    else:
        val = seeded_order([s.name for s in train], seed)
        val = sorted(val[: count_held_out(len(train), val_fraction)])
    val_set = set(val)
    return SplitManifest(dataset, protocol, tuple(s.name for s in train if s.name not in val_set),
                         tuple(val), tuple(s.name for s in test))


def read_missing_list(path: str | os.PathLike) -> set[str]:
    """The official "samples with missing skeletons" list: a few lines of prose, then one sample
    name per line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise DataError(f"{path}: cannot read the missing-samples list ({err.strerror})") from None
    names: set[str] = set()
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            names.add(parse_sample_name(text).name)
        except DataError:
            if names:  # prose is allowed only before the first name
                raise DataError(f"{path}, line {number}: {text[:40]!r} is not an NTU sample "
                                "name") from None
    if not names:
        raise DataError(f"{path} lists no NTU sample names (expected one SsssCcccPpppRrrrAaaa "
                        "per line after the header)")
    return names
