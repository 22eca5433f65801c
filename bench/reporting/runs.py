"""The report's appendix of runs: what each run was (id, method, profile, seed, config hash and
the knobs that differ from the profile's defaults), on what (train/val/test sizes), how long it
took, with which code and packages, and when. Read from result.json; split sizes of runs stored
before result.json recorded them come from the split manifest, rebuilt when the data is still
there and gives the run's manifest hash."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from bench.reporting import tables
from bench.specs import short_hash

RUN_HEADERS = ["Run id", "Method", "Profile", "Seed", "Status", "Config hash", "Train", "Val",
               "Test", "Data (s)", "Fit (s)", "Predict (s)", "Date (UTC)"]
OVERRIDE_HEADERS = ["Run id", "Differs from the profile's defaults"]
PACKAGES = ("torch", "transformers", "peft", "mmaction2", "mmengine", "numpy")
VERSION_HEADERS = ["Run id", "Code", "Python", "Device"] + list(PACKAGES)

# Definitions of the columns above, for the appendix (bench/reporting/explanations.py).
COLUMN_NOTES = [
    ("Run id", "the run's folder under runs/ in the output folder: the method and a hash of "
     "everything that determines the result (suite, method, config, seed, split manifest, data "
     "identity)."),
    ("Status", "done, or failed (its error is listed under Failed runs)."),
    ("Config hash", "first 12 hex digits of the sha256 of the canonical JSON (sorted keys) of the "
     "run's resolved method config, as results.json records it."),
    ("Train", "train samples in the run's split manifest (Val, Test likewise); '-' where neither "
     "the run nor the data still there records it."),
    ("Val", "validation samples in the split manifest."),
    ("Test", "test samples scored (with --limit, the capped test list)."),
    ("Data (s)", "wall seconds the run spent loading its data (Fit (s): training, Predict (s): "
     "predicting the test split), as the run measured them."),
    ("Fit (s)", "wall seconds of the method's fit (training)."),
    ("Predict (s)", "wall seconds of prediction on the test split (explanations included)."),
    ("Date (UTC)", "when the run finished (runs stored before this was recorded: the time "
     "result.json was written, marked 'file')."),
    ("Differs from the profile's defaults", "each config field (dotted path) whose value in the "
     "run differs from the method's current defaults for the run's profile, as default -> run; "
     "'none' when it ran the profile as shipped."),
    ("Code", "git commit of bench that ran it (first 12 hex digits), else bench's package "
     "version."),
    ("Python", "Python version of the run."),
    ("Device", "the GPU the run used, else the CPU and its core count."),
] + [(name, f"installed {name} version at run time ('-': not installed).") for name in PACKAGES]


def config_overrides(spec: dict) -> dict[str, tuple] | None:
    """{dotted key: (profile default, run value)} for each field that differs; None when the
    method or profile is not known here any more."""
    from bench.plan import method_config

    try:
        defaults = tables.flatten(method_config(spec["method"], spec["profile"]))
    except Exception:  # noqa: BLE001  (a method removed since the run: no defaults to compare)
        return None
    config = tables.flatten(spec["config"])
    missing = object()
    out = {}
    for key in sorted(set(defaults) | set(config)):
        a, b = defaults.get(key, missing), config.get(key, missing)
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True,
                                                                     default=str):
            out[key] = (None if a is missing else a, None if b is missing else b)
    return out


def _value(v) -> str:
    return "(unset)" if v is None else json.dumps(v) if not isinstance(v, str) else v


def override_text(spec: dict) -> str:
    diff = config_overrides(spec)
    if diff is None:
        return f"unknown (no {spec['method']} {spec['profile']} defaults in this version)"
    if not diff:
        return "none"
    return "; ".join(f"{k}: {_value(a)} -> {_value(b)}" for k, (a, b) in diff.items())


class _Sizes:
    """Split sizes per run: recorded in result.json, else from the rebuilt manifest (cached per
    data reference)."""

    def __init__(self):
        self._manifests: dict[str, dict | None] = {}

    def of(self, result: dict) -> tuple:
        m = result.get("metrics") or {}
        if "num_train" in m:
            return m.get("num_train"), m.get("num_val"), m.get("num_test")
        counts = self._manifest_counts(result["spec"])
        if counts:
            return counts["train"], counts["val"], counts["test"]
        return None, None, m.get("num_test")

    def _manifest_counts(self, spec: dict) -> dict | None:
        key = json.dumps([spec["suite"], spec["data"], spec["manifest_sha256"]], sort_keys=True,
                         default=str)
        if key not in self._manifests:
            self._manifests[key] = _rebuilt_counts(spec)
        return self._manifests[key]


def _rebuilt_counts(spec: dict) -> dict | None:
    from bench.data.datasets import resolve_source, suite_for
    from bench.specs import DataRef

    try:
        ref = DataRef.from_any(spec["data"])
        suite = suite_for(spec["suite"], ref)
        if ref.kind == "synthetic" and not _synthetic_present(suite):
            return None  # a report never generates data
        source = resolve_source(suite, ref)
    except Exception:  # noqa: BLE001  (the data is gone or moved: sizes unknown, not an error)
        return None
    if source.manifest.sha256 != spec["manifest_sha256"]:
        return None  # the data there now gives another split
    return source.manifest.counts()


def _synthetic_present(suite) -> bool:
    from bench.data.synthetic.generator import is_complete, params_key
    from bench.paths import cache_root

    return bool(suite.synthetic) and is_complete(
        Path(cache_root()) / "synthetic" / params_key(suite.synthetic))


def run_date(result: dict, folder: Path | None) -> str:
    date = (result.get("versions") or {}).get("date")
    if date:
        return datetime.fromisoformat(date).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    if folder is not None and (folder / "result.json").exists():
        stamp = datetime.fromtimestamp((folder / "result.json").stat().st_mtime, timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M") + " (file)"
    return "-"


def code_version(versions: dict) -> str:
    if versions.get("git"):
        return versions["git"][:12]
    return f"bench {versions['bench']}" if versions.get("bench") else "-"


def _num(x) -> str:
    return "-" if x is None else str(int(x))


def _secs(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def _order(r: dict) -> tuple:
    s = r["spec"]
    return (s["method"], s["profile"], s["seed"], r["run_id"])


def run_rows(store, results: list[dict]) -> list[list[str]]:
    sizes = _Sizes()
    rows = []
    for r in sorted(results, key=_order):
        s, t = r["spec"], r.get("timings") or {}
        train, val, test = sizes.of(r)
        rows.append([r["run_id"], s["method"], s["profile"], str(s["seed"]), r["status"],
                     short_hash(s["config"]), _num(train), _num(val), _num(test),
                     _secs(t.get("data_s")), _secs(t.get("fit_s")), _secs(t.get("predict_s")),
                     run_date(r, store.run_dir(r["run_id"]))])
    return rows


def override_rows(results: list[dict]) -> list[list[str]]:
    return [[r["run_id"], override_text(r["spec"])] for r in sorted(results, key=_order)]


def version_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for r in sorted(results, key=_order):
        v = r.get("versions") or {}
        rows.append([r["run_id"], code_version(v), v.get("python") or "-", v.get("device") or "-"]
                    + [v.get(p) or "-" for p in PACKAGES])
    return rows


def runs_appendix(doc, store, results: list[dict]) -> None:
    """The 'Appendix: runs' section: runs, their config differences, their software."""
    doc.heading("Appendix: runs")
    doc.para("Every run this report reads, from its result.json. Columns are defined in the "
             "metric appendix; the full resolved config of each run is in results.json.")
    doc.table(RUN_HEADERS, run_rows(store, results), "Runs: identity, split sizes, timings")
    profiles = ", ".join(sorted({r["spec"]["profile"] for r in results}))
    doc.table(OVERRIDE_HEADERS, override_rows(results),
              f"Runs: config fields that differ from the profile's defaults ({profiles})",
              long=True, spec=tables.ragged(["4.2cm", "12.2cm"]))  # an ablation: many rows
    doc.table(VERSION_HEADERS, version_rows(results), "Runs: code and package versions")
