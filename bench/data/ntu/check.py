"""`bench data check DIR`: is a folder of raw NTU `.skeleton` files complete and usable?

Every file is parsed (in a process pool). The report gives the usable samples per split of each
official protocol, the samples expected but absent (against an official available-samples list
when given, else against the rule that every take is filmed by all three cameras), the files on
the official missing-skeleton lists (which the splits leave out), empty files and files with no
body, samples with 3 or more bodies in a frame, corrupt files with the one-line error of each,
and file names that are not NTU sample names. Only corrupt or misnamed files make it fail.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.data.ntu.missing_skeletons import missing_skeleton_samples
from bench.data.ntu.names import SampleName, parse_sample_name
from bench.data.splits import DATASET_LIMITS, PROTOCOLS, split_names
from bench.errors import DataError

CAMERAS = (1, 2, 3)
MULTI_BODY = 3  # bodies in one frame from which a sample is reported (noise bodies)
EXAMPLES = 3  # names shown per row of the table


@dataclass
class CheckReport:
    root: Path
    dataset: str
    files: int
    splits: dict[str, tuple[int, int]] = field(default_factory=dict)  # protocol -> (train, test)
    expected_from: str = ""
    absent: list[str] = field(default_factory=list)
    official_missing_present: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # empty file, or no body in any frame
    multi_body: list[str] = field(default_factory=list)
    corrupt: dict[str, str] = field(default_factory=dict)  # file -> one-line error
    bad_names: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # valid names of another dataset
    unexpected: list[str] = field(default_factory=list)  # not on the given available list

    @property
    def usable(self) -> bool:
        return not self.corrupt and not self.bad_names


def _inspect(path: Path) -> tuple[str, str | int]:
    """("ok", most bodies in a frame), ("empty", ""), or ("corrupt", the one-line error)."""
    from bench.data.ntu.skeleton import parse_skeleton_bytes

    try:
        data = path.read_bytes()
    except OSError as err:
        return "corrupt", f"{path}: cannot read ({err.strerror})"
    if not data.strip():
        return "empty", ""
    try:
        sf = parse_skeleton_bytes(data, str(path))
    except DataError as err:
        return "corrupt", str(err)
    return "ok", int(sf.bodies_per_frame.max()) if sf.num_frames else 0


def _inspect_all(paths: list[Path], workers: int) -> list[tuple[str, str | int]]:
    if workers <= 1 or len(paths) < 64:
        return [_inspect(p) for p in paths]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_inspect, paths, chunksize=max(1, len(paths) // (workers * 16))))


def read_sample_list(path: str | os.PathLike) -> set[str]:
    """One NTU sample name per line (blank lines ignored), e.g. ntu120_available_samples.txt."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        raise DataError(f"{path}: cannot read the sample list ({err.strerror})") from None
    names = set()
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                names.add(parse_sample_name(line.strip()).name)
            except DataError:
                raise DataError(f"{path}, line {number}: {line.strip()[:40]!r} is not an NTU "
                                "sample name (expected SsssCcccPpppRrrrAaaa)") from None
    if not names:
        raise DataError(f"{path} lists no NTU sample names")
    return names


def _in_dataset(sample: SampleName, dataset: str) -> bool:
    max_setup, max_action = DATASET_LIMITS[dataset]
    return sample.setup <= max_setup and sample.action <= max_action


def _guess_dataset(samples: list[SampleName]) -> str:
    return "ntu60" if all(_in_dataset(s, "ntu60") for s in samples) else "ntu120"


def _expected_by_cameras(samples: list[SampleName]) -> set[str]:
    """Every take (setup, performer, replication, action) present is filmed by all cameras."""
    takes = {(s.setup, s.performer, s.replication, s.action) for s in samples}
    return {SampleName(st, cam, p, r, a).name for st, p, r, a in takes for cam in CAMERAS}


def check_skeleton_dir(root: str | os.PathLike, expected: str | os.PathLike | None = None,
                       dataset: str | None = None, workers: int = 1) -> CheckReport:
    """Inspect every `.skeleton` file under root (recursively); see the module docstring."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DataError(f"{root} is a file; bench data check expects the folder of NTU .skeleton "
                        f"files")
    if not root.is_dir():
        raise DataError(f"NTU skeleton directory {root} does not exist")
    if dataset is not None and dataset not in DATASET_LIMITS:
        raise DataError(f"unknown NTU dataset {dataset!r}; expected one of "
                        f"{sorted(DATASET_LIMITS)}")
    named: dict[str, tuple[SampleName, Path]] = {}
    bad_names = []
    for path in sorted(root.rglob("*.skeleton")):
        if path.name.startswith("."):  # macOS "._" files left by unzipping
            continue
        try:
            sample = parse_sample_name(path.name)
        except DataError:
            bad_names.append(str(path.relative_to(root)))
            continue
        if sample.name in named:
            raise DataError(f"NTU sample {sample.name} appears twice under {root}: "
                            f"{named[sample.name][1]} and {path}; keep one copy")
        named[sample.name] = (sample, path)
    if not named and not bad_names:
        raise DataError(f"{root} holds no .skeleton files")
    dataset = dataset or _guess_dataset([s for s, _ in named.values()])
    report = CheckReport(root, dataset, len(named) + len(bad_names), bad_names=bad_names)
    report.outside = [n for n, (s, _) in named.items() if not _in_dataset(s, dataset)]
    mine = {n: sp for n, sp in named.items() if _in_dataset(sp[0], dataset)}
    _check_files(report, mine, workers)
    _check_completeness(report, mine, expected)
    return report


def _check_files(report: CheckReport, samples: dict, workers: int) -> None:
    official_missing = missing_skeleton_samples(report.dataset)
    names = list(samples)
    usable = []
    for name, (status, detail) in zip(names, _inspect_all([p for _, p in samples.values()],
                                                           workers)):
        if status == "corrupt":
            report.corrupt[str(samples[name][1])] = str(detail)
        elif status == "empty" or detail == 0:
            report.empty.append(name)
        else:
            if detail >= MULTI_BODY:
                report.multi_body.append(name)
            if name not in official_missing:
                usable.append(name)
    report.official_missing_present = sorted(official_missing & set(names))
    for protocol in PROTOCOLS[report.dataset]:
        train, test = split_names(usable, protocol, report.dataset)
        report.splits[protocol] = (len(train), len(test))


def _check_completeness(report: CheckReport, samples: dict, expected) -> None:
    official_missing = missing_skeleton_samples(report.dataset)
    if expected is not None:
        listed = {n for n in read_sample_list(expected)
                  if _in_dataset(parse_sample_name(n), report.dataset)}
        report.expected_from = f"listed in {Path(expected).name}"
        report.unexpected = sorted(set(samples) - listed - official_missing)
    else:
        listed = _expected_by_cameras([s for s, _ in samples.values()])
        report.expected_from = "takes filmed by all 3 cameras"
    report.absent = sorted(listed - set(samples) - official_missing)


def format_report(report: CheckReport) -> str:
    from tabulate import tabulate

    def examples(names) -> str:
        names = list(names)
        more = f", ... ({len(names) - EXAMPLES} more)" if len(names) > EXAMPLES else ""
        return ", ".join(names[:EXAMPLES]) + more

    out = [f"NTU skeleton check of {report.root}: {report.files:,} .skeleton files, "
           f"checked as {report.dataset}", ""]
    rows = [(p, f"{tr:,}", f"{te:,}") for p, (tr, te) in report.splits.items()]
    out += [tabulate(rows, headers=("protocol", "train", "test"), tablefmt="simple",
                     colalign=("left", "right", "right")), ""]
    missing = report.official_missing_present
    checks = [
        (f"expected but absent ({report.expected_from})", report.absent),
        ("on the official missing-skeleton list (left out of the splits)", missing),
        ("empty, or no body in any frame", report.empty),
        (f"{MULTI_BODY}+ bodies in a frame (noise bodies; two are kept)", report.multi_body),
        ("corrupt (errors below)", list(report.corrupt)),
        ("not an NTU sample name", report.bad_names),
    ]
    if report.outside:
        checks.append((f"not part of {report.dataset} (ignored)", report.outside))
    if report.unexpected:
        checks.append(("present but not on the expected list", report.unexpected))
    rows = [(what, f"{len(names):,}", examples(names)) for what, names in checks]
    out.append(tabulate(rows, headers=("check", "samples", "examples"), tablefmt="simple",
                        colalign=("left", "right", "left")))
    if report.corrupt:
        out += ["", "corrupt files:"] + [f"  {error}" for error in report.corrupt.values()]
    verdict = ("usable" if report.usable else
               f"NOT usable: {len(report.corrupt)} corrupt file(s), "
               f"{len(report.bad_names)} misnamed file(s)")
    out += ["", f"data {verdict}"]
    return "\n".join(out)
