"""The metric registry: one definition per metric, controls beside every text score, and the
tables, appendix and `bench list metrics` that read it."""
import numpy as np
import pytest

from bench.metrics import grounding as G
from bench.metrics import registry as R
from bench.specs import Predictions

STORED_KEYS = ("top1", "top5", "mean_class_acc", "macro_f1", "rouge_l", "bleu", "bertscore_f1",
               "embedding_similarity", "grounding", "consistency", "faithfulness",
               "faith_cited_drop", "faith_random_drop", "explained")


def test_each_metric_once_and_stored_keys_kept():
    keys = [m.key for m in R.METRICS]
    assert len(keys) == len(set(keys))
    assert set(STORED_KEYS) <= set(keys)  # result.json of stored runs stays readable
    assert {m.key for m in R.CLASSIFICATION} == {"top1", "top5", "mean_class_acc", "macro_f1"}


def test_definitions_state_the_code_constants():
    text = R.BY_KEY["grounding"].definition
    assert f"more than {G.THRESHOLD:g} spine lengths" in text and "0.12" not in text
    assert f"more than {G.SALIENT:g} spine lengths" in text
    assert "not comparable with published BERTScore" in R.BY_KEY["bertscore_f1"].definition
    assert "train explanations" in R.BY_KEY["consistency"].definition


def test_printed_scales():
    assert R.fmt("bleu", 23.456) == "23.5"  # BLEU is stored on 0-100
    assert R.fmt("rouge_l@shuffled", 0.12345) == "0.123"
    assert R.fmt("top1", 0.5) == "50.0"
    assert R.fmt("grounding", None) == "-" and R.fmt("grounding", float("nan")) == "-"
    assert R.header_of("rouge_l@constant") == "ROUGE-L (constant)"


def _run(context):
    texts = ["the right hand rises", "", "the left leg kicks forward", "both hands rise"]
    refs = ["the right hand rises to the mouth", "x", "the left leg kicks", "the hands go up"]
    facts = [["right hand|moving", "right hand|up"], [], ["left leg|moving", "left leg|forward"],
             ["left hand|moving", "left hand|up", "right hand|moving", "right hand|up"]]
    scores = np.eye(3)[[0, 1, 2, 1]]  # predicted: 0, 1, 2, 1
    return Predictions(["a", "b", "c", "d"], [0, 1, 2, 0], scores, texts,
                       {"reference": refs, "motion_facts": facts}, context)


def _rouge(texts, refs):
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.mean([scorer.score(r, t)["rougeL"].fmeasure for t, r in zip(texts, refs) if t])


def test_controls_are_scored_on_the_same_clips():
    context = {"constant_text": "the right hand rises",
               "class_templates": ["the left hand lowers", "both hands rise",
                                   "the left leg kicks forward"]}
    p = _run(context)
    p.extra["token_narration"] = ["the right hand rises", "", "the left leg moves", "x"]
    q = R.score_run(p)
    explained, refs = [0, 2, 3], p.extra["reference"]
    assert q["rouge_l"] == pytest.approx(_rouge([p.texts[i] for i in explained],
                                                [refs[i] for i in explained]))
    assert q["rouge_l@constant"] == pytest.approx(
        _rouge(["the right hand rises"] * 3, [refs[i] for i in explained]))
    templates = [context["class_templates"][c] for c in (0, 2, 1)]  # predicted classes
    assert q["rouge_l@template"] == pytest.approx(_rouge(templates, [refs[i] for i in explained]))
    decoded = [p.extra["token_narration"][i] for i in explained]  # what the tokens read as
    assert q["rouge_l@decoded"] == pytest.approx(_rouge(decoded, [refs[i] for i in explained]))
    # constant "the right hand rises": a: supported, the only moving part named (F1 1); c: not
    # supported, the moving leg not named (0); d: supported, one of two moving hands named (2/3)
    assert q["grounding@constant"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    for key in ("bleu", "grounding"):
        assert all(f"{key}@{c}" in q for c in R.CONTROLS)
    assert "bertscore_f1" not in q  # MiniLM scores are for reports only


def test_shuffled_control_is_a_fixed_permutation_of_the_models_texts():
    from bench.metrics.explanation import control_texts

    p = _run({})
    a, b = control_texts(p, p.texts), control_texts(p, p.texts)
    assert set(a) == {"shuffled"}  # no constant or templates stored: those controls are absent
    assert a["shuffled"] == b["shuffled"] and a["shuffled"][1] == ""
    assert sorted(t for t in a["shuffled"] if t) == sorted(t for t in p.texts if t)


def test_missing_controls_print_as_dashes():
    from bench.reporting.explanations import quality_rows

    q = R.score_run(_run({"constant_text": "the body stays still"}))
    rows = {r[3]: r for r in quality_rows("lvlm_var", "cpu", 0, q)}
    assert rows["Explained"][4] == "3/4"
    model, constant, shuffled, template = rows["ROUGE-L"][4:8]
    assert model != "-" and constant != "-" and shuffled != "-" and template == "-"


def test_tables_and_plots_list_the_registry():
    from bench.reporting import accuracy as A
    from bench.reporting.ablation import CURVE_METRICS

    assert [h for _, h in A.METRIC_HEADERS] == [m.header for m in R.CLASSIFICATION]
    assert {k for k, _ in CURVE_METRICS} == {m.key for m in R.CLASSIFICATION if m.in_ablation}
    keys = R.ablation_keys()
    assert "rouge_l@shuffled" in keys and "grounding@constant" in keys


def test_appendix_and_list_metrics_come_from_the_registry(capsys):
    from bench.cli import main
    from bench.reporting.explanations import appendix_md

    text = "\n".join(appendix_md(100, 0))
    assert R.BY_KEY["grounding"].definition in text and "100 resamples" in text
    assert R.CONTROL_DEFINITION in text
    assert main(["list", "metrics"]) == 0
    out = capsys.readouterr().out
    for m in R.METRICS:
        assert m.key in out and m.definition in out
