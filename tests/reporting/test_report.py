"""Reports rendered from fixed stored predictions; numbers checked against scikit-learn/scipy."""
import re
import warnings

import numpy as np
import pytest
from scipy.stats import binomtest, chi2
from sklearn.metrics import (
    accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, recall_score,
    top_k_accuracy_score,
)
from toys import independent_bootstrap, md_tables, store_toy_run

from bench.errors import BenchError
from bench.reporting.ablation import ablation_report
from bench.reporting.report import suite_report
from bench.store import Store
from bench.suites import SUITES

RESAMPLES = 150
_CELL = re.compile(r"^(-?[\d.]+)(?: ± ([\d.]+))? \[([\d.]+), ([\d.]+)\]$")


def _cell(text):
    m = _CELL.match(text)
    assert m, text
    value, std, low, high = m.groups()
    return float(value), None if std is None else float(std), float(low), float(high)


def _fixed_runs(store):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 200)
    knn = [rng.normal(size=(200, 10)) + 1.5 * np.eye(10)[labels] for _ in range(2)]
    stgcn = rng.normal(size=(200, 10)) + 0.9 * np.eye(10)[labels]
    lvlm = rng.normal(size=(200, 10)) + 1.9 * np.eye(10)[labels]
    texts = ["right hand rises"] * 100 + ["left leg kicks forward"] * 100
    extra = {"reference": ["right hand rises"] * 200,
             "motion_facts": [["right hand|moving", "right hand|up"]] * 200}
    results = [store_toy_run(store, "knn", labels, s, seed=i) for i, s in enumerate(knn)]
    results.append(store_toy_run(store, "stgcn", labels, stgcn))
    results.append(store_toy_run(store, "lvlm_var", labels, lvlm, texts=texts, extra=extra))
    return labels, {"knn": knn, "stgcn": [stgcn], "lvlm_var": [lvlm]}, results


def test_suite_report_numbers_match_scikit_learn_and_scipy(tmp_path):
    store = Store(tmp_path)
    labels, runs, results = _fixed_runs(store)
    names = [f"class {i}" for i in range(10)]
    path = suite_report(store, SUITES.get("mini-xsub"), results, names, synthetic=True,
                        resamples=RESAMPLES, boot_seed=3)
    text = path.read_text()
    assert text.startswith("# Suite mini-xsub (synthetic data)")
    t = md_tables(text)
    acc = {r["Method"]: r for r in t["Accuracy"]}
    for method, score_list in runs.items():
        preds = [s.argmax(1) for s in score_list]
        expected = {
            "Top-1 (%)": [accuracy_score(labels, p) for p in preds],
            "Top-5 (%)": [top_k_accuracy_score(labels, s, k=5) for s in score_list],
            "Mean class acc. (%)": [balanced_accuracy_score(labels, p) for p in preds],
            "Macro-F1 (%)": [f1_score(labels, p, average="macro") for p in preds]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = independent_bootstrap(labels, score_list, RESAMPLES, seed=3)
        for (col, values), key in zip(expected.items(), ci):
            value, std, low, high = _cell(acc[method][col])
            assert value == round(100 * np.mean(values), 1), (method, col)
            assert (std is None) == (len(values) == 1)
            if std is not None:
                assert std == round(100 * np.std(values, ddof=1), 1)
            assert (low, high) == tuple(round(100 * x, 1) for x in ci[key]), (method, col)
    ref = runs["lvlm_var"][0].argmax(1) == labels
    for method in ("knn", "stgcn"):
        own = runs[method][0].argmax(1) == labels  # lowest seed
        b, c = int(np.sum(own & ~ref)), int(np.sum(~own & ref))
        p = (binomtest(b, b + c, 0.5).pvalue if b + c < 25
             else chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1))
        assert acc[method]["McNemar vs lvlm_var"].startswith(f"{b}/{c}, p={p:.3g}")
    assert acc["lvlm_var"]["McNemar vs lvlm_var"] == "(reference)"
    per_seed = [r for r in t["Per-seed results"] if r["Method"] == "knn"]
    assert [r["Top-1 (%)"] for r in per_seed] == [
        f"{100 * accuracy_score(labels, s.argmax(1)):.1f}" for s in runs["knn"]]
    per_class = t["Per-class accuracy"]
    recall = recall_score(labels, runs["stgcn"][0].argmax(1), average=None)
    assert [r["stgcn (smoke) (%)"] for r in per_class] == [f"{100 * x:.1f}" for x in recall]
    cm = confusion_matrix(labels, runs["stgcn"][0].argmax(1))
    np.fill_diagonal(cm, 0)
    pairs = [r for r in t["Most confused pairs"] if r["Method"] == "stgcn (smoke)"]
    assert int(pairs[0]["Count"]) == cm.max() and len(pairs) == 10
    assert cm[names.index(pairs[0]["True class"]), names.index(pairs[0]["Predicted as"])] == \
        cm.max()
    quality = {r["Metric"]: r for r in t["Explanation quality"]}
    assert quality["Explained"]["Model"] == "200/200" and quality["Grounding"]["Model"] == "0.500"
    assert quality["ROUGE-L"]["Constant"] == "-"  # the run stored no control texts
    from rouge_score import rouge_scorer
    rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    expected_rouge = np.mean([1.0] * 100 + [rouge.score("right hand rises", "left leg kicks "
                                                        "forward")["rougeL"].fmeasure] * 100)
    assert quality["ROUGE-L"]["Model"] == f"{expected_rouge:.3f}"
    for method in runs:
        for fmt in ("png", "pdf"):
            figure = path.parent / "figures" / f"confusion_{method}_smoke.{fmt}"
            assert figure.stat().st_size > 1000
    tex = (path.parent / "report.tex").read_text()
    assert "\\toprule" in tex and "figures/confusion_knn_smoke.pdf" in tex
    assert "Appendix: metric definitions" in text and "BERTScore (MiniLM-L6" in text


def test_tables_refuse_mixed_manifests(tmp_path):
    store = Store(tmp_path)
    labels, scores = np.array([0, 1]), np.eye(2)
    results = [store_toy_run(store, "knn", labels, scores, manifest="a" * 64),
               store_toy_run(store, "stgcn", labels, scores, manifest="b" * 64)]
    with pytest.raises(BenchError, match="different split manifests"):
        suite_report(store, SUITES.get("mini-xsub"), results, ["a", "b"], synthetic=True)


def test_published_rows_reported_against_measured():
    from bench.reporting.published import published_rows

    measured = {("stgcn", "paper"): (0.8512, {}),
                ("lvlm_var", "paper"): (0.5, {"lvlm.backbone": "llava-1.5"})}
    rows = {(r[0], r[1]): r for r in published_rows("ntu60-xsub", measured, synthetic=False)}
    assert rows[("ST-GCN (joint)", "PYSKL")][2:] == ["87.8", "stgcn (paper)", "85.1", "-2.7"]
    assert rows[("ST-GCN (joint)", "MMAction2")][5] == f"{85.12 - 88.11:+.1f}"
    assert rows[("LVLM-VAR (LLaVA-13B)", "LVLM-VAR paper")][5] == "-44.1"
    assert rows[("ST-GCN (4-stream)", "PYSKL")][3:] == ["-", "-", "-"]  # stgcn-fusion not run
    assert rows[("SUGAR", "AAAI 2026")][3:] == ["-", "-", "-"]  # no counterpart here
    synthetic = published_rows("ntu60-xsub", measured, synthetic=True)
    assert {r[5] for r in synthetic if r[3] != "-"} == {"n/a (synthetic)"}
    assert published_rows("mini-xsub", measured, synthetic=False) == []


def test_report_on_real_data_has_published_differences_and_60_readable_classes(tmp_path):
    from bench.data.ntu.classes import class_names

    store = Store(tmp_path)
    rng = np.random.default_rng(4)
    labels = np.arange(240) % 60
    scores = rng.normal(size=(240, 60)) + 2.5 * np.eye(60)[labels]
    results = [store_toy_run(store, "stgcn", labels, scores, suite="ntu60-xsub", data="/data/ntu",
                             profile="paper")]
    path = suite_report(store, SUITES.get("ntu60-xsub"), results, class_names("ntu60"),
                        synthetic=False, resamples=50)
    text = path.read_text()
    assert text.startswith("# Suite ntu60-xsub\n")
    published = md_tables(text)["Published results: reported vs measured here"]
    top1 = 100 * accuracy_score(labels, scores.argmax(1))
    row = next(r for r in published if r["Method"] == "ST-GCN (joint)" and r["Source"] == "PYSKL")
    assert row["Measured top-1 (%)"] == f"{top1:.1f}"
    assert row["Measured - reported"] == f"{top1 - 87.8:+.1f}"
    from PIL import Image
    with Image.open(path.parent / "figures" / "confusion_stgcn_paper.png") as im:
        assert min(im.size) >= 60 * 20  # at least 20 pixels per class cell and label line


def test_ablation_one_axis_with_ci_bands(tmp_path):
    from bench.ablations import load_ablations

    store = Store(tmp_path)
    labels = np.arange(40) % 4
    results = []
    for k, strength in ((8, 0.0), (16, 1.0), (32, 3.0)):
        for seed in (0, 1):
            rng = np.random.default_rng(10 * k + seed)
            scores = rng.normal(size=(40, 4)) + strength * np.eye(4)[labels]
            results.append(store_toy_run(store, "lvlm_var", labels, scores, seed=seed,
                                         config={"vst.codebook": k, "lora.rank": 4}))
    path = ablation_report(store, load_ablations().get("vst.codebook"), SUITES.get("mini-xsub"),
                           results, synthetic=True, resamples=60)
    rows = next(iter(md_tables(path.read_text()).values()))
    assert [r["vst.codebook"] for r in rows] == ["8", "16", "32"]
    for r, k in zip(rows, (8, 16, 32)):
        accs = [accuracy_score(labels, store.load_predictions(x["run_id"]).scores.argmax(1))
                for x in results if x["spec"]["config"]["vst.codebook"] == k]
        value, std, low, high = _cell(r["Top-1 (%)"])
        assert value == round(100 * np.mean(accs), 1)
        assert std == round(100 * np.std(accs, ddof=1), 1)
        assert low <= value <= high and r["Runs"] == "2/2"
    assert (path.parent / "figures" / "ablation.pdf").exists()


def test_ablation_two_axes_gives_a_heatmap(tmp_path):
    from bench.ablations import resolve_sweep

    store = Store(tmp_path)
    labels = np.arange(20) % 4
    results = [store_toy_run(store, "lvlm_var", labels, np.eye(4)[labels] * (k > 8) * (r > 4),
                             config={"vst.codebook": k, "lora.rank": r})
               for k in (8, 16) for r in (4, 8)]
    sweep = resolve_sweep("lora.rank,vst.codebook")  # axes in the sweep's order
    path = ablation_report(store, sweep, SUITES.get("mini-xsub"), results, synthetic=True,
                           resamples=20)
    assert path.parent.name == "lora.rank,vst.codebook"
    rows = next(iter(md_tables(path.read_text()).values()))
    assert list(rows[0])[:2] == ["lora.rank", "vst.codebook"]
    got = {(r["vst.codebook"], r["lora.rank"]): _cell(r["Top-1 (%)"])[0] for r in rows}
    # all-zero scores tie -> class 0 (a quarter right); only codebook 16 x rank 8 is all right
    assert got == {("8", "4"): 25.0, ("8", "8"): 25.0, ("16", "4"): 25.0, ("16", "8"): 100.0}
    assert (path.parent / "figures" / "ablation_heatmap.png").exists()


def test_confusion_order_groups_confused_classes():
    from bench.reporting.confusion import grouping_order

    # classes {0, 5}, {1, 3}, {2, 4} are confused with each other, nothing else is
    cm = np.diag([20] * 6)
    for a, b in ((0, 5), (1, 3), (2, 4)):
        cm[a, b] = cm[b, a] = 8
    order = list(grouping_order(cm))
    for a, b in ((0, 5), (1, 3), (2, 4)):
        assert abs(order.index(a) - order.index(b)) == 1


def test_bench_report_rescores_stored_predictions(tmp_path, capsys):
    import json

    from bench.cli import main

    store = Store(tmp_path)
    labels = np.arange(30) % 3
    scores = np.eye(3)[labels] + np.eye(3)[(labels + 1) % 3] * (np.arange(30) % 2)[:, None] * 2
    r = store_toy_run(store, "knn", labels, scores)
    result_file = store.run_dir(r["run_id"]) / "result.json"
    stale = json.loads(result_file.read_text())
    stale["metrics"]["top1"] = 0.99  # a stale stored number must not reach the report
    result_file.write_text(json.dumps(stale))
    assert main(["report", "--suite", "mini-xsub", "--profile", "smoke", "--out",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [str(tmp_path / "reports" / "mini-xsub" / "report.md"),
                        str(tmp_path / "reports" / "mini-xsub" / "report.tex")]
    acc = md_tables((tmp_path / "reports" / "mini-xsub" / "report.md").read_text())["Accuracy"]
    assert _cell(acc[0]["Top-1 (%)"])[0] == round(100 * accuracy_score(labels, scores.argmax(1)), 1)
