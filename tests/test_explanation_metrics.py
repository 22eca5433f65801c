"""Explanation-quality metrics: reference-based scores, grounding, faithfulness, consistency."""
import math
from collections import Counter

import numpy as np
import pytest

from bench.metrics import explanation as X
from bench.metrics.grounding import claims, grounding, skeleton_facts


def _ngrams(words, n):
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def test_bleu_matches_a_hand_computation():
    hyp = "the right hand rises to the head then lowers"
    ref = "the right hand rises above the head then it lowers slowly"
    h, r = hyp.split(), ref.split()
    logp = [math.log(sum((_ngrams(h, n) & _ngrams(r, n)).values()) / (len(h) - n + 1))
            for n in range(1, 5)]  # every order has a match here, so no smoothing applies
    brevity = math.exp(1 - len(r) / len(h)) if len(h) < len(r) else 1.0
    expected = 100 * brevity * math.exp(sum(logp) / 4)
    assert math.isclose(X.bleu([hyp, ""], [ref, "ignored: no explanation"]), expected,
                        rel_tol=1e-9)


def _minilm_hidden(text):
    """Last-layer vectors straight from transformers (an independent path to the same model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from bench.metrics.text_embedding import minilm_path

    tok = AutoTokenizer.from_pretrained(minilm_path())
    model = AutoModel.from_pretrained(minilm_path()).eval()
    with torch.no_grad():
        return model(**tok([text], return_tensors="pt")).last_hidden_state[0].numpy()


def test_embedding_similarity_and_bertscore_from_minilm():
    a, b = "the right hand rises to the mouth", "a person drinks a glass of water"
    ha, hb = _minilm_hidden(a), _minilm_hidden(b)
    va, vb = ha.mean(0), hb.mean(0)  # one text each: no padding, mean over all tokens
    cos = float(va @ vb / np.linalg.norm(va) / np.linalg.norm(vb))
    assert math.isclose(X.embedding_similarity([a], [b]), cos, rel_tol=1e-4)
    ta, tb = ha[1:-1], hb[1:-1]  # BERTScore drops [CLS] and [SEP]
    ta, tb = ta / np.linalg.norm(ta, axis=1, keepdims=True), tb / np.linalg.norm(tb, axis=1,
                                                                                 keepdims=True)
    sim = ta @ tb.T
    p, r = sim.max(1).mean(), sim.max(0).mean()
    assert math.isclose(X.bertscore_f1([a], [b]), 2 * p * r / (p + r), rel_tol=1e-4)
    assert math.isclose(X.bertscore_f1([a], [a]), 1.0, rel_tol=1e-5)
    near = X.bertscore_f1(["the right hand goes up to the mouth"], [a])
    far = X.bertscore_f1(["both legs kick backwards"], [a])
    assert near > far


def test_consistency_points_to_the_nearest_class():
    names = ["drink water", "kicking something", "hand waving"]
    protos, source = X.class_prototypes(names, np.array([0, 1, 2]), None)
    assert source == "class names"
    texts = ["drinking a glass of water", "kicks something with the foot", "waves a hand", ""]
    assert X.consistency(texts, np.array([0, 1, 2, 0]), protos) == 1.0
    assert X.consistency(texts, np.array([1, 2, 0, 0]), protos) == 0.0


def test_claims_read_parts_and_motions():
    assert claims("right hand moves up and down, then both hands push forward") == [
        ("right hand", "axis1"), ("left hand", "forward"), ("right hand", "forward")]
    assert claims("The torso and legs stay still.") == [("torso", "still"),
                                                       ("left leg|right leg", "still")]
    assert claims("the second person's hands lower, then the two people move closer") == [
        ("left hand|right hand", "down"), ("pair", "closer")]
    assert claims("an unremarkable action") == []
    assert grounding("right hand rises, left leg kicks forward", ["right hand|up"]) == 0.5
    assert grounding("legs stay still", ["left leg|moving"]) == 0.0
    assert grounding("nothing to see", []) is None


def test_grounding_prefers_the_true_description_of_a_skeleton(tmp_path):
    from bench.data.layouts import get_layout
    from bench.data.ntu_loader import find_skeleton_files, load_ntu_arrays
    from bench.data.synthetic import generate_ntu, read_descriptions

    root = generate_ntu(tmp_path / "syn", actions=range(1, 25), cameras=(1,), performers=(1,),
                        replications=(1,))
    files = find_skeleton_files(root)
    ids = sorted(files)
    keypoint, frames, _ = load_ntu_arrays([files[i] for i in ids])
    refs = [read_descriptions(root)[i]["description"] for i in ids]
    facts = skeleton_facts(keypoint, frames, get_layout("ntu25"), 30.0)
    own = np.mean([grounding(r, f) for r, f in zip(refs, facts)])
    shifted = np.mean([grounding(refs[(i + 5) % len(refs)], f) for i, f in enumerate(facts)])
    assert own > 0.8 and own > shifted + 0.2


def test_faithfulness_deletion_against_random():
    from bench.methods.lvlm_var.faithfulness import cited_positions, deletion_test

    descriptions = ["body stays still", "right hand rises", "left leg kicks forward"]
    # A stand-in model: class 1's score counts token 1, class 0's score is constant.
    score_fn = lambda toks: np.array([[1.0, 2.0 * t.count(1)] for t in toks])  # noqa: E731
    tokens = [[0, 1, 1, 2, 0, 0], [2, 0, 0], [0, 0, 1]]
    texts = ["right hand rises", "left leg kicks forward", ""]
    scores = score_fn(tokens)
    assert cited_positions(tokens[0], texts[0], descriptions) == [1, 2]
    rec = deletion_test(score_fn, tokens, texts, scores, descriptions, samples=5, seed=0)
    assert rec[2] is None  # no explanation: not tested
    r = rec[0]
    softmax = lambda s: np.exp(s[1]) / np.exp(s).sum()  # noqa: E731
    assert r["cited"] == 2 and math.isclose(r["p"], softmax(np.array([1.0, 4.0])))
    assert math.isclose(r["p_cited"], softmax(np.array([1.0, 0.0])))  # both cited 1s deleted
    assert r["p_random"] >= r["p_cited"]
    summary = X.faithfulness_summary(rec)
    assert summary["faith_samples"] == 2 and summary["faithfulness"] >= 0
    assert deletion_test(score_fn, tokens, texts, scores, descriptions, 0, 0) == [None] * 3


@pytest.mark.parametrize("with_refs", [True, False])
def test_explanation_quality_collects_every_metric(with_refs):
    from bench.specs import Predictions

    texts = ["right hand rises", "", "left leg kicks forward"]
    extra = {"motion_facts": [["right hand|up"], [], ["right leg|forward"]],
             "faithfulness": [{"cited": 1, "tokens": 2, "p": 0.6, "p_cited": 0.1,
                               "p_random": 0.5}, None, None]}
    if with_refs:
        extra["reference"] = ["the right hand rises", "x", "the left leg kicks forward"]
    p = Predictions(["a", "b", "c"], [0, 1, 1], np.eye(2)[[0, 1, 0]], texts, extra)
    q = X.explanation_quality(p, ["raise hand", "kick"])
    assert q["explained"] == 2 and q["grounding"] == 0.5 and q["grounding_samples"] == 2
    assert math.isclose(q["faithfulness"], 0.4)
    assert ("rouge_l" in q) == with_refs and ("bertscore_f1" in q) == with_refs
    assert 0.0 <= q["consistency"] <= 1.0
