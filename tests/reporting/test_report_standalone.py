"""A report that stands alone (issue 17): its runs (ids, config differences, split sizes,
timings, versions, date), metrics on their printed scale, example explanations that include
failures, classes never recognised, and a definition for every column."""
import re

import numpy as np
import pytest
from sklearn.metrics import recall_score
from toys import md_table_list, ntu_ids

from bench.metrics import registry as R
from bench.plan import method_config
from bench.reporting.ablation import ablation_report
from bench.reporting.report import suite_report
from bench.runner import score
from bench.specs import Predictions, RunResult, RunSpec, short_hash
from bench.store import Store
from bench.suites import SUITES

VERSIONS = {"python": "3.11.7", "device": "cpu (2 cores)", "git": "0123456789abcdef" * 2,
            "date": "2026-03-04T05:06:07+00:00", "torch": "2.13.0+cpu",
            "transformers": "5.25.0", "peft": "0.21.2", "mmaction2": "1.2.0",
            "mmengine": "0.10.7", "numpy": "1.26.4"}
# Columns that name things (a method, a run, a clip, a class) rather than measure them.
NAMES = {"Method", "Profile", "Seed", "Sample", "Class", "#", "Run id", "Source"}


def store_run(store, method, labels, scores, *, seed=0, config=None, texts=None, extra=None,
              metrics=None, versions=None, timings=None, suite="mini-xsub", profile="smoke",
              n_classes=None):
    spec = RunSpec(suite, method, method_config(method, profile) if config is None else config,
                   seed, "m" * 64, profile, "synthetic:x")
    p = Predictions(ntu_ids(len(labels)), labels, scores, texts, extra or {})
    stored = {**score(p), **(metrics or {})}
    store.commit(store.staging_dir(spec.run_id),
                 RunResult(spec.run_id, spec, "done", stored, timings or {}, versions or {}), p)
    return store.load_result(spec.run_id)


def appendix_names(text):
    part = text.split("## Appendix: metric definitions", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- \*\*(.+?)\*\*: ", part, flags=re.M))


def undefined_columns(text, extra_names=()):
    """Table headers (and the explanation table's metric names) the appendix does not define."""
    defined = appendix_names(text)
    missing = set()
    for heading, cols, rows in md_table_list(text):
        for col in cols:
            if col in NAMES or col in extra_names or col in defined:
                continue
            if heading == "Per-class accuracy" and "METHOD (PROFILE) (%)" in defined and \
                    re.fullmatch(r"\S+ \(\S+\) \(%\)", col):
                continue
            control = re.fullmatch(r"(.+) \((constant|shuffled|template|decoded)\)", col)
            if control and control.group(1) in defined and "Controls" in defined:
                continue
            missing.add(col)
        if heading == "Explanation quality":
            missing |= {r["Metric"] for r in rows} - defined
    return missing


@pytest.fixture(scope="module")
def suite_text(tmp_path_factory):
    """A 12-class suite: knn (two seeds, timed and versioned, one knob changed), an older knn
    run without sizes, versions or date, and an explaining lvlm_var run with diagnostics whose
    explanations barely overlap the references (BLEU under 0.05) and which never predicts
    classes 3 and 7 right."""
    store = Store(tmp_path_factory.mktemp("standalone"))
    rng = np.random.default_rng(5)
    labels = np.arange(96) % 12
    knn_config = {**method_config("knn", "smoke"), "frames": 8}
    for seed in (0, 1):
        store_run(store, "knn", labels, rng.normal(size=(96, 12)) + 2 * np.eye(12)[labels],
                  seed=seed, config=knn_config, versions=VERSIONS,
                  metrics={"num_train": 400, "num_val": 50},
                  timings={"data_s": 1.25, "fit_s": 12.5, "predict_s": 3.0})
    store_run(store, "stgcn", labels, rng.normal(size=(96, 12)) + 2 * np.eye(12)[labels])
    lvlm = rng.normal(size=(96, 12)) + 3 * np.eye(12)[labels]
    lvlm[labels == 3] = np.eye(12)[4] * 10  # class 3 always taken for class 4
    lvlm[labels == 7] = np.eye(12)[0] * 10
    text = " ".join(f"w{i}" for i in range(200)) + " the"  # one shared word in 201
    extra = {"reference": ["the right hand rises to the mouth and then lowers to the side of the "
                           "body"] * 96,
             "motion_facts": [["right hand|moving", "right hand|up"]] * 96}
    diagnostics = {m.key: 0.5 for m in R.DIAGNOSTICS}
    store_run(store, "lvlm_var", labels, lvlm, texts=[text] * 96, extra=extra,
              metrics=diagnostics, versions=VERSIONS)
    results = store.results()
    names = [f"class {i}" for i in range(12)]
    path = suite_report(store, SUITES.get("mini-xsub"), results, names, synthetic=True,
                        resamples=30)
    return store, results, labels, lvlm, path.read_text()


def test_runs_appendix_lists_ids_config_sizes_timings_versions(suite_text):
    store, results, _, _, text = suite_text
    runs = [t for t in md_table_list(text) if t[0] == "Appendix: runs"]
    assert len(runs) == 3
    identity = {r["Run id"]: r for r in runs[0][2]}
    assert set(identity) == {r["run_id"] for r in results}
    for r in results:
        row = identity[r["run_id"]]
        assert (row["Method"], row["Profile"], row["Seed"]) == (
            r["spec"]["method"], "smoke", str(r["spec"]["seed"]))
        assert row["Config hash"] == short_hash(r["spec"]["config"])
        assert row["Test"] == "96"
        if r["spec"]["method"] == "knn":
            assert (row["Train"], row["Val"], row["Fit (s)"], row["Predict (s)"]) == (
                "400", "50", "12.5", "3.0")
            assert row["Date (UTC)"] == "2026-03-04 05:06"
        if r["spec"]["method"] == "stgcn":  # stored without sizes, timings or date
            assert (row["Train"], row["Val"], row["Fit (s)"]) == ("-", "-", "-")
            assert row["Date (UTC)"].endswith("(file)")
    overrides = {r["Run id"]: r["Differs from the profile's defaults"] for r in runs[1][2]}
    knn_ids = [r["run_id"] for r in results if r["spec"]["method"] == "knn"]
    assert {overrides[i] for i in knn_ids} == {"frames: 32 -> 8"}
    assert {v for k, v in overrides.items() if k not in knn_ids} == {"none"}
    versions = {r["Run id"]: r for r in runs[2][2]}
    knn = versions[knn_ids[0]]
    assert knn["Code"] == VERSIONS["git"][:12]
    assert [knn[p] for p in ("torch", "transformers", "peft", "mmaction2", "mmengine",
                             "numpy")] == ["2.13.0+cpu", "5.25.0", "0.21.2", "1.2.0", "0.10.7",
                                           "1.26.4"]


def test_small_bleu_prints_with_two_significant_figures(suite_text):
    from bench.metrics import explanation as X

    store, results, _, _, text = suite_text
    quality = {r["Metric"]: r for h, _, rows in md_table_list(text) if h == "Explanation quality"
               for r in rows}
    lvlm = next(r for r in results if r["spec"]["method"] == "lvlm_var")
    p = store.load_predictions(lvlm["run_id"])
    bleu = X.score_bleu(p.texts, X.ExplanationInputs(p))
    assert 0.001 < bleu < 0.05 and f"{bleu:.1f}" == "0.0"  # what one decimal printed
    assert quality["BLEU"]["Model"] == f"{bleu:.2g}"  # two significant figures


@pytest.mark.parametrize("metric", R.METRICS + R.DIAGNOSTICS, ids=lambda m: m.key)
def test_no_metric_prints_a_small_value_as_zero(metric):
    for printed in (0.011, 0.0004, -0.0023, 0.5):
        text = metric.fmt(printed / metric.scale)
        assert float(text) != 0 and abs(float(text) - printed) <= 0.05 * abs(printed), text
    assert metric.fmt(0.0) == f"{0:.{metric.digits}f}"  # a true zero stays as it was
    assert R.fmt("bleu", 25.34) == "25.3" and R.fmt("rouge_l", 0.5421) == "0.542"


def test_examples_include_wrong_predictions_across_classes(suite_text):
    from bench.reporting.explanations import example_indices

    _, _, labels, lvlm, text = suite_text
    examples = [r for h, _, rows in md_table_list(text) if h == "Example explanations" for r in rows]
    wrong = [r for r in examples if r["Right"] == "no"]
    assert len(examples) == 6 and len(wrong) == 3  # half wrong when enough are
    assert all(r["True"] != r["Predicted"] for r in wrong)
    assert len({r["True"] for r in examples}) == 6  # six true classes
    p = Predictions(ntu_ids(96), labels, lvlm, ["x"] * 96)
    assert example_indices(p) == example_indices(p)  # deterministic
    # one wrong clip, far from the first five (which the old sample showed), is still shown
    scores = np.eye(12)[labels] * 5
    scores[41] = np.eye(12)[(labels[41] + 1) % 12] * 5
    chosen = example_indices(Predictions(ntu_ids(96), labels, scores, ["x"] * 96))
    assert 41 in chosen and len(chosen) == 6
    # all right: all six are right ones, from six classes
    chosen = example_indices(Predictions(ntu_ids(96), labels, np.eye(12)[labels], ["x"] * 96))
    assert len(chosen) == 6 and len(set(labels[chosen])) == 6


def test_never_recognised_classes_are_listed(suite_text):
    store, results, labels, lvlm, text = suite_text
    rows = [r for h, _, rs in md_table_list(text) if h == "Classes never recognised" for r in rs]
    recall = recall_score(labels, lvlm.argmax(1), average=None)
    expected = [f"class {c}" for c in np.flatnonzero(recall == 0)]
    assert expected == ["class 3", "class 7"]
    lvlm_row = next(r for r in rows if r["Method"] == "lvlm_var")
    assert lvlm_row["Never right"] == "2" and lvlm_row["Never-right classes"] == ", ".join(expected)
    assert {(r["Method"], r["Seed"]) for r in rows} == {
        (r["spec"]["method"], str(r["spec"]["seed"])) for r in results}


def test_every_column_of_the_suite_report_is_defined(suite_text):
    text = suite_text[-1]
    headings = {h for h, _, _ in md_table_list(text)}
    # the report has the tables whose columns need definitions
    assert {"Accuracy", "Per-seed results", "Explanation quality", "Example explanations",
            "Semantic-token diagnostics", "What the language model adds", "Most confused pairs",
            "Per-class accuracy", "Classes never recognised", "Appendix: runs"} <= headings
    assert undefined_columns(text) == set()


def test_every_column_of_a_real_data_report_and_an_ablation_is_defined(tmp_path):
    from bench.ablations import load_ablations
    from bench.data.ntu.classes import class_names

    store = Store(tmp_path / "suite")
    labels = np.arange(120) % 60
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(120, 60)) + 3 * np.eye(60)[labels]
    results = [store_run(store, "stgcn", labels, scores, suite="ntu60-xsub", profile="cpu")]
    text = suite_report(store, SUITES.get("ntu60-xsub"), results, class_names("ntu60"),
                        synthetic=False, resamples=20).read_text()
    assert "Published results: reported vs measured here" in {h for h, _, _ in md_table_list(text)}
    assert undefined_columns(text) == set()

    store = Store(tmp_path / "ablation")
    labels = np.arange(24) % 4
    base = method_config("lvlm_var", "smoke")
    assert base["vst.codebook"] not in (8, 16)
    results = [store_run(store, "lvlm_var", labels, np.eye(4)[labels] * (k > 8),
                         config={**base, "vst.codebook": k},
                         metrics={m.key: 0.25 for m in R.DIAGNOSTICS}) for k in (8, 16)]
    path = ablation_report(store, load_ablations().get("vst.codebook"), SUITES.get("mini-xsub"),
                           results, synthetic=True, resamples=20)
    text = path.read_text()
    assert undefined_columns(text) == set()
    assert "vst.codebook" in appendix_names(text)
    overrides = [r["Differs from the profile's defaults"] for h, cols, rows in md_table_list(text)
                 if h == "Appendix: runs" and "Differs from the profile's defaults" in cols
                 for r in rows]
    assert sorted(overrides) == [f"vst.codebook: {base['vst.codebook']} -> {k}" for k in (16, 8)]


def test_a_run_records_what_its_report_states(tmp_path):
    """result.json of a real (knn smoke) run holds its split sizes, finish date and versions,
    and the report's Runs appendix prints them."""
    import json
    from datetime import datetime, timezone

    from bench.cli import main
    from bench.data.datasets import resolve_source
    from bench.specs import DataRef

    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert main(["run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
                 "--methods", "knn", "--out", str(tmp_path)]) == 0
    (run,) = [d for d in (tmp_path / "runs").iterdir() if not d.name.startswith(".")]
    result = json.loads((run / "result.json").read_text())
    ref = DataRef.from_any(result["spec"]["data"])
    counts = resolve_source(SUITES.get("mini-xsub"), ref).manifest.counts()
    m, v = result["metrics"], result["versions"]
    assert (m["num_train"], m["num_val"], m["num_test"]) == (
        counts["train"], counts["val"], counts["test"])
    assert before <= datetime.fromisoformat(v["date"]) <= datetime.now(timezone.utc)
    assert v["bench"] and v["numpy"] == np.__version__
    text = (tmp_path / "reports" / "mini-xsub" / "report.md").read_text()
    (row,) = next(rows for h, _, rows in md_table_list(text) if h == "Appendix: runs")
    assert (row["Run id"], row["Train"], row["Val"], row["Test"]) == (
        run.name, str(counts["train"]), str(counts["val"]), str(counts["test"]))
    assert row["Date (UTC)"] == datetime.fromisoformat(v["date"]).strftime("%Y-%m-%d %H:%M")
