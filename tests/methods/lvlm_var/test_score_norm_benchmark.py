"""benchmarks/score_norm.py: one LVLM-VAR fit, its validation clips scored under each class-scoring
rule (the check behind `lvlm.score_norm` choices). Smoke profile on the 10-class mini suite."""
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "score_norm.py"


def test_one_fit_scored_under_each_rule_on_validation():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # the tests' BENCH_CACHE: the same mini data
    out = subprocess.run([sys.executable, str(SCRIPT), "--suite", "mini-xsub", "--profile", "smoke",
                          "--norms", "sum,constrained"], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["score_norm"] for r in rows] == ["sum", "constrained"]
    sum_row = rows[0]
    from bench.data.datasets import load_bundle, resolve_source
    from bench.suites import SUITES

    bundle = load_bundle(resolve_source(SUITES.get("mini-xsub"), "synthetic"))
    # scored on the validation part, fitted on the rest of train; test never touched
    assert sum_row["val_clips"] == len(bundle.val) and sum_row["train_clips"] == len(bundle.train)
    for r in rows:  # the smoke LM learns the 10 classes well above chance either way
        assert 0.0 <= r["top1"] <= r["top5"] <= 1.0
        assert r["top1"] > 2 * r["chance"], r
