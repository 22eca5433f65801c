"""The Python API: `bench run` as a function, and the stored runs as records (results.json's).

    from bench import run_suite, load_results
    records = run_suite("mini-xsub", methods=["knn"], profile="smoke")
    records = load_results("bench-out", suite="mini-xsub")

Both return the records bench/reporting/results.py documents, one dict per run.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from bench.errors import BenchError


def run_suite(suite: str = "ntu60-xsub", data: str = "synthetic",
              methods: Iterable[str] | None = None, profile: str = "cpu",
              seeds: Iterable[int] | None = None, out: str | Path = "bench-out", *,
              workers: int | str = "auto", limit: int | None = None, layout: str | None = None,
              split: str | None = None, track: str | None = None, evaluate: str = "test",
              **set_overrides) -> list[dict]:
    """Run a suite as `bench run` does (same planning, resume, executor and report) and return
    one record per run. `data`: 'synthetic', a folder of raw NTU .skeleton files, or an
    annotation pickle FILE.pkl (with layout=, and split= when it has several; its suite is made
    from the file, so pass suite=None). seeds=None: the suite's default seeds. Every other
    keyword is a method config field, as `--set KEY=VALUE` (a dotted key:
    `**{"vst.codebook": 64}`); limit= is `--limit N`, track= `--track`, evaluate="val"
    `--evaluate val`."""
    from bench.cli import build_parser, run_and_report

    argv = ["run", *_data_args(data), "--profile", profile, "--out", str(out),
            "--workers", str(workers), "--evaluate", evaluate]
    for flag, value in (("--seeds", seeds is not None and ",".join(str(int(s)) for s in seeds)),
                        ("--suite", suite), ("--layout", layout), ("--split", split),
                        ("--methods", methods and _names(methods)),
                        ("--limit", limit is not None and str(int(limit))), ("--track", track)):
        if value:
            argv += [flag, value]
    for key, value in set_overrides.items():
        argv += ["--set", f"{key}={json.dumps(value)}"]
    results, report = run_and_report(build_parser().parse_args(argv))
    return json.loads((report.parent / "results.json").read_text())


def _data_args(data: str | Path) -> list[str]:
    """'synthetic' and FILE.pkl go to --data, a folder to --data-root (as on the command line)."""
    if str(data) == "synthetic" or Path(data).is_file():
        return ["--data", str(data)]
    return ["--data-root", str(data)]


def _names(methods: Iterable[str] | str) -> str:
    return methods if isinstance(methods, str) else ",".join(methods)


def load_results(out: str | Path = "bench-out", suite: str | None = None) -> list[dict]:
    """The records of the runs stored under `out` (all suites, or one), rebuilt from the run
    folders: no report needs to have been written."""
    from bench.reporting.results import records_from_store
    from bench.store import Store

    store = Store(Path(out))
    if not store.runs.is_dir():
        raise BenchError(f"out {out}: no runs stored there (expected {store.runs})")
    results = [r for r in store.results() if suite is None or r["spec"]["suite"] == suite]
    if suite is not None and not results:
        stored = sorted({r["spec"]["suite"] for r in store.results()})
        raise BenchError(f"suite {suite!r}: no runs of it under {out} (stored suites: "
                         f"{', '.join(stored) or 'none'})")
    return records_from_store(store, results)
