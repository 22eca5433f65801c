"""NTU RGB+D sample names `SsssCcccPpppRrrrAaaa`: setup, camera, performer, replication, action."""
from __future__ import annotations

import functools
import numbers
import os
import re
from dataclasses import dataclass

from bench.errors import DataError

NAME_PATTERN = "SsssCcccPpppRrrrAaaa"
_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
# The file forms the dataset ships: skeletons and RGB videos.
_SUFFIXES = (".skeleton", "_rgb.avi")


@dataclass(frozen=True, order=True)
class SampleName:
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __post_init__(self):
        values = (self.setup, self.camera, self.performer, self.replication, self.action)
        if set(map(type, values)) == {int} and min(values) > 0 and max(values) < 1000:
            return  # the common case, kept cheap for parsing whole datasets
        for field, value in zip(("setup", "camera", "performer", "replication", "action"), values):
            integral = isinstance(value, numbers.Integral)
            if not integral or not 1 <= value <= 999:
                raise DataError(f"NTU sample {field} must be an integer in 1..999, got {value!r} "
                                f"(names are {NAME_PATTERN})")

    @functools.cached_property  # works on a frozen dataclass: it writes the instance __dict__
    def name(self) -> str:
        return (f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
                f"R{self.replication:03d}A{self.action:03d}")

    @property
    def label(self) -> int:
        """0-based class index (A001 -> 0)."""
        return self.action - 1

    def __str__(self) -> str:
        return self.name


def parse_sample_name(text: str | os.PathLike) -> SampleName:
    """Parse `S001C002P003R002A013`, or a file name `<name>.skeleton` / `<name>_rgb.avi`
    (a leading directory is ignored)."""
    base = os.path.basename(os.fspath(text))
    stem = base
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            stem = base[: -len(suffix)]
            break
    match = _NAME_RE.fullmatch(stem)
    if match is None:
        raise DataError(f"{base!r} is not an NTU RGB+D sample name (expected {NAME_PATTERN}, "
                        f"optionally with .skeleton or _rgb.avi, e.g. S001C002P003R002A013)")
    try:
        sample = SampleName(*map(int, match.groups()))
    except DataError as err:
        raise DataError(f"{base!r}: {err}") from None
    sample.__dict__["name"] = stem  # already canonical: spare formatting it again
    return sample


def is_sample_name(text: str | os.PathLike) -> bool:
    try:
        parse_sample_name(text)
    except DataError:
        return False
    return True


def format_sample_name(setup: int, camera: int, performer: int, replication: int,
                       action: int) -> str:
    return SampleName(setup, camera, performer, replication, action).name


def index_by_sample(root, suffix: str, what: str) -> dict:
    """Sample name -> path of every `*suffix` file under root (recursive: the official archives
    unpack into nested folders), sorted by name; a name found twice is an error naming both."""
    from pathlib import Path

    root = Path(root)
    found: dict = {}
    for path in root.rglob(f"*{suffix}"):
        if path.name.startswith("."):  # macOS "._" resource files left by unzipping
            continue
        name = parse_sample_name(path.name).name
        if name in found:
            raise DataError(f"NTU {what} {name} appears twice under {root}: {found[name]} and "
                            f"{path}; keep one copy")
        found[name] = path
    return dict(sorted(found.items()))
