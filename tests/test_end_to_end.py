"""The whole pipeline through the CLI, at profile smoke on the small synthetic suite."""
import json
import re
import subprocess
import sys

import pytest


def bench(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    res = bench("run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
                "--out", str(out / "bench-out"), cwd=out)
    assert res.returncode == 0, res.stderr[-3000:]
    return out / "bench-out", res


def test_report_holds_both_methods_above_chance(smoke_run):
    out, res = smoke_run
    report = out / "reports" / "mini-xsub" / "report.md"
    assert res.stdout.strip().splitlines()[-1] == str(report)
    text = report.read_text()
    assert "(synthetic data)" in text.splitlines()[0]
    rows = {}
    accuracy = text.split("## Accuracy", 1)[1].split("\n## ", 1)[0]
    for line in accuracy.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 8 and cells[0] in {"lvlm_var", "stgcn", "knn"}:
            rows[cells[0]] = float(cells[2].split()[0])  # "66.1 [62.4, 70.0]": value [95% CI]
    assert set(rows) == {"lvlm_var", "stgcn", "knn"}
    chance = 100 / 10
    for method, top1 in rows.items():
        assert top1 > chance, f"{method} top-1 {top1}% is not above chance"
    assert "\\toprule" in (out / "reports" / "mini-xsub" / "report.tex").read_text()
    for method in rows:
        assert (out / "reports" / "mini-xsub" / "figures" / f"confusion_{method}_smoke.png").exists()
    assert "Action:" not in text or "Explanation" in text


def test_runs_store_the_documented_artifacts(smoke_run):
    out, _ = smoke_run
    results = [json.loads(p.read_text()) for p in out.glob("runs/*/result.json")]
    assert len(results) == 3 and all(r["status"] == "done" for r in results)
    assert len({r["spec"]["manifest_sha256"] for r in results}) == 1
    for r in results:
        run = out / "runs" / r["run_id"]
        assert (run / "spec.json").exists() and (run / "predictions.npz").exists()
        assert 0.0 <= r["metrics"]["top1"] <= 1.0
    lvlm = next(r for r in results if r["spec"]["method"] == "lvlm_var")
    rows = [json.loads(line) for line in
            (out / "runs" / lvlm["run_id"] / "explanations.jsonl").read_text().splitlines()]
    assert rows and all({"sample_id", "text", "reference"} <= set(row) for row in rows)
    assert 0.0 <= lvlm["metrics"]["rouge_l"] <= 1.0


def test_second_run_recomputes_nothing(smoke_run):
    out, _ = smoke_run
    before = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}
    res = bench("run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
                "--out", str(out), cwd=out.parent)
    assert res.returncode == 0, res.stderr[-2000:]
    assert re.search(r"3 runs planned, 3 already done", res.stderr)
    assert before == {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}


def test_ablation_sweeps_codebook_sizes_given_out_of_order(smoke_run):
    out, _ = smoke_run
    # two of the smoke values of ablations/vst.codebook.toml, given out of order
    res = bench("ablate", "vst.codebook", "--values", "32,8", "--suite", "mini-xsub", "--data",
                "synthetic", "--profile", "smoke", "--out", str(out), cwd=out.parent)
    assert res.returncode == 0, res.stderr[-3000:]
    report = out / "reports" / "vst.codebook" / "report.md"
    assert res.stdout.strip().splitlines()[-1] == str(report)
    rows = [line for line in report.read_text().splitlines() if re.match(r"\|\s*\d+\s*\|", line)]
    assert [int(r.strip("|").split("|")[0]) for r in rows] == [8, 32]
    assert (out / "reports" / "vst.codebook" / "figures" / "ablation.png").exists()
