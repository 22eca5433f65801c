import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from bench.errors import BenchError
from bench.reporting.report import ablation_report, suite_report
from bench.specs import Predictions, RunResult, RunSpec
from bench.store import Store
from bench.suites import SUITES


def _store_run(store, method, labels, scores, manifest="m" * 64, config=None, texts=None):
    spec = RunSpec("mini-xsub", method, config or {}, 0, manifest, "smoke", "synthetic:x")
    p = Predictions([f"S001C001P003R001A{i:03d}" for i in range(len(labels))], labels, scores,
                    texts, {"reference": ["right hand rises"] * len(labels)} if texts else {})
    from bench.runner import score

    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "done", score(p)), p)
    return store.load_result(spec.run_id)


def _table_value(report_text, method, column):
    header = next(line for line in report_text.splitlines() if line.startswith("| Method"))
    col = [c.strip() for c in header.strip("|").split("|")].index(column)
    row = next(line for line in report_text.splitlines() if line.startswith(f"| {method} "))
    return [c.strip() for c in row.strip("|").split("|")][col]


def test_suite_report_numbers_match_scikit_learn(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 200)
    scores = rng.normal(size=(200, 10)) + 1.5 * np.eye(10)[labels]
    store = Store(tmp_path)
    results = [_store_run(store, "knn", labels, scores),
               _store_run(store, "lvlm_var", labels, -scores, texts=["right hand rises"] * 200)]
    names = [f"class {i}" for i in range(10)]
    path = suite_report(store, SUITES.get("mini-xsub"), results, names, synthetic=True)
    text = path.read_text()
    assert text.startswith("# Suite mini-xsub (synthetic data)")
    pred = scores.argmax(1)
    assert _table_value(text, "knn", "Top-1 (%)") == f"{100 * accuracy_score(labels, pred):.1f}"
    assert _table_value(text, "knn", "Mean class acc. (%)") == \
        f"{100 * balanced_accuracy_score(labels, pred):.1f}"
    assert _table_value(text, "lvlm_var", "ROUGE-L") == "1.000"
    assert (path.parent / "figures" / "confusion_knn_smoke.png").stat().st_size > 1000
    tex = (path.parent / "report.tex").read_text()
    assert "\\begin{document}" in tex and "\\toprule" in tex and "\\end{document}" in tex


def test_tables_refuse_mixed_manifests(tmp_path):
    store = Store(tmp_path)
    labels, scores = np.array([0, 1]), np.eye(2)
    results = [_store_run(store, "knn", labels, scores, manifest="a" * 64),
               _store_run(store, "stgcn", labels, scores, manifest="b" * 64)]
    with pytest.raises(BenchError, match="different split manifests"):
        suite_report(store, SUITES.get("mini-xsub"), results, ["a", "b"], synthetic=True)


def test_ablation_report_rows_per_value(tmp_path):
    from bench.ablations import load_ablations

    store = Store(tmp_path)
    labels = np.arange(4)
    results = [_store_run(store, "lvlm_var", labels, np.eye(4) * (k > 8),
                          config={"vst.codebook": k}) for k in (8, 16, 32)]
    path = ablation_report(store, load_ablations().get("vst.codebook"), SUITES.get("mini-xsub"),
                           results, synthetic=True)
    rows = [line for line in path.read_text().splitlines() if line.startswith("| ") and
            line[2].isdigit()]
    assert [r.split("|")[1].strip() for r in rows] == ["8", "16", "32"]
    # Codebook 8 got all-zero scores (ties -> class 0): 1 of 4 right; the others all right.
    assert [r.split("|")[2].strip() for r in rows] == ["25.0", "100.0", "100.0"]
