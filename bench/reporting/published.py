"""Published top-1 numbers (baselines/published.toml) beside what was measured here.

A published entry stands for exactly one kind of measured run, like with like: the bench method
(`measured_as = "<bench method>"`, else the known names below: joint entries -> the single-stream
baseline, 4-stream entries -> its `-fusion` method), run at the profile of the published recipe
(`profile`, default "paper") and, where the entry has a `[result.config]` table, with those
config values (LVLM-VAR (LLaVA-13B): lvlm.backbone = llava-1.5). Runs of other profiles or
configs are not compared (a SmolLM2 cpu run is not "LVLM-VAR (LLaVA-13B)"). Methods with no
counterpart here (other LLM-based recognisers) stay "reported" only.
"""
from __future__ import annotations

from bench.errors import BenchError
from bench.reporting import tables

KNOWN = {"LVLM-VAR (LLaVA-13B)": "lvlm_var", "ST-GCN (joint)": "stgcn", "AAGCN (joint)": "aagcn",
         "CTR-GCN (joint)": "ctrgcn", "MS-G3D (joint)": "msg3d", "PoseC3D (joint)": "posec3d",
         # the 2:2:1:1 joint/bone/joint-motion/bone-motion fusions (bench.methods.fusion)
         "ST-GCN (4-stream)": "stgcn-fusion", "AAGCN (4-stream)": "aagcn-fusion",
         "CTR-GCN (4-stream)": "ctrgcn-fusion", "MS-G3D (4-stream)": "msg3d-fusion"}
HEADERS = ["Method", "Source", "Reported top-1 (%)", "Measured here: run", "Measured top-1 (%)",
           "Measured - reported"]


def load_published() -> list[dict]:
    import tomllib

    from bench.paths import content_dir

    path = content_dir("baselines") / "published.toml"
    try:
        entries = tomllib.loads(path.read_text())["result"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise BenchError(f"{path}: invalid published-results file ({exc}); expected "
                         f"[[result]] tables with method, source and per-suite numbers") from None
    for i, e in enumerate(entries):
        if "method" not in e or "source" not in e:
            raise BenchError(f"{path}: [[result]] number {i + 1} needs 'method' and 'source'")
    return entries


def published_rows(suite_name: str, measured: dict[tuple[str, str], tuple[float, dict]],
                   synthetic: bool) -> list[list[str]]:
    """Rows for this suite. measured: (bench method, profile) -> (top-1 fraction, the runs'
    config). Differences only on real data: a synthetic dataset shares the suite's split rule,
    not its samples."""
    rows = []
    for e in load_published():
        if suite_name not in e:
            continue
        ours_name = e.get("measured_as") or KNOWN.get(e["method"], "")
        profile = e.get("profile", "paper")
        ours = measured.get((ours_name, profile))
        if ours is not None and any(ours[1].get(k) != v for k, v in e.get("config", {}).items()):
            ours = None  # the same method with another backbone or recipe: not this entry
        reported = float(e[suite_name])
        run, value, diff = "-", "-", "-"
        if ours is not None:
            run, value = f"{ours_name} ({profile})", tables.fmt_pct(ours[0])
            diff = "n/a (synthetic)" if synthetic else f"{100 * ours[0] - reported:+.1f}"
        rows.append([e["method"], e["source"], f"{reported:.1f}", run, value, diff])
    return rows
