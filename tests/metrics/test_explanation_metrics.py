"""Explanation-quality metrics: reference-based scores, grounding, faithfulness, consistency."""
import math
from collections import Counter

import numpy as np
import pytest

from bench.metrics import explanation as X
from bench.metrics.grounding import claims, grounding, ordered_claims, skeleton_facts


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


# ---- grounding ---------------------------------------------------------------------------------

_REST = {  # a standing person, metres; x = the performer's left, y = up
    "spine base": (0, .90, 0), "spine mid": (0, 1.15, 0), "neck": (0, 1.42, 0),
    "head": (0, 1.55, 0), "spine shoulder": (0, 1.35, 0),
    "left shoulder": (.2, 1.35, 0), "left elbow": (.25, 1.1, 0), "left wrist": (.25, .9, 0),
    "left hand": (.25, .85, 0), "left hand tip": (.25, .8, 0), "left thumb": (.24, .82, .02),
    "right shoulder": (-.2, 1.35, 0), "right elbow": (-.25, 1.1, 0), "right wrist": (-.25, .9, 0),
    "right hand": (-.25, .85, 0), "right hand tip": (-.25, .8, 0), "right thumb": (-.24, .82, .02),
    "left hip": (.1, .9, 0), "left knee": (.1, .5, 0), "left ankle": (.1, .1, 0),
    "left foot": (.1, .05, .1), "right hip": (-.1, .9, 0), "right knee": (-.1, .5, 0),
    "right ankle": (-.1, .1, 0), "right foot": (-.1, .05, .1),
}
FPS = 30.0


def _clip_facts(right_hand_height):
    """Facts of a one-person clip whose right hand follows the given heights (metres, one per
    frame; the spine is 0.45 m long) while the rest of the body stands still."""
    from bench.data.layouts import get_layout

    layout = get_layout("ntu25")
    pose = np.array([_REST[j] for j in layout.joints], dtype=np.float32)
    clip = np.repeat(pose[None], len(right_hand_height), 0)
    clip[:, layout.joints.index("right hand"), 1] = right_hand_height
    keypoint = clip[None, None]  # (N=1, M=1, T, V, 3)
    return skeleton_facts(keypoint, np.array([len(clip)]), layout, FPS)[0]


def _ramp(a, b, seconds):
    return np.linspace(a, b, int(seconds * FPS), endpoint=False)


def _rise_hold_lower():
    """Hand at rest 0.5 s, up to the mouth in 0.5 s, held 1 s, down in 0.5 s, rest 0.5 s."""
    return np.concatenate([_ramp(.85, .85, .5), _ramp(.85, 1.45, .5), _ramp(1.45, 1.45, 1),
                           _ramp(1.45, .85, .5), _ramp(.85, .85, .5)])


def test_facts_time_the_moves_of_a_known_clip():
    facts = _clip_facts(_rise_hold_lower())
    moves = [(k, s, e) for p, k, s, e in facts["events"] if p == "right hand"]
    assert [k for k, _, _ in moves] == ["up", "down"]
    (_, s_up, e_up), (_, s_down, e_down) = moves
    assert 0.4 <= s_up < e_up <= 1.1 and 1.9 <= s_down < e_down <= 2.6
    assert not [e for e in facts["events"] if e[0] != "right hand"]
    assert facts["range"]["right hand"] == pytest.approx(0.6 / 0.45, abs=0.05)


def test_claims_read_the_narrator_grammar():
    assert ordered_claims("the right hand rises to the mouth, then stays, then lowers to the "
                          "side") == [(0, "right hand", ("up",)), (1, "right hand", ("still",)),
                                      (2, "right hand", ("down",))]
    assert ordered_claims("both hands move outward while the head moves up and down, then the "
                          "body sits down. the torso and legs stay still") == [
        (0, "left hand", ("out",)), (0, "right hand", ("out",)), (0, "head", ("osc1",)),
        (1, "body", ("down",)), (2, "torso", ("still", "throughout")),
        (2, "left leg|right leg", ("still", "throughout"))]
    assert ordered_claims("the two people move closer") == [(0, "pair", ("closer",))]
    assert ordered_claims("the right leg kicks out to the side") == [(0, "right leg", ("out",))]
    assert ordered_claims("an unremarkable action") == []
    # the phase-free pairs LVLM-VAR compares as sets
    assert claims("the left hand moves side to side, then turns back") == [
        ("left hand", "axis0"), ("left hand", "moving")]


def test_grounding_checks_order_direction_and_side():
    facts = _clip_facts(_rise_hold_lower())
    right = grounding("the right hand rises to the mouth, then stays, then lowers to the side",
                      facts)
    reversed_ = grounding("the right hand lowers to the side, then stays, then rises to the "
                          "mouth", facts)
    wrong_way = grounding("the right hand moves forward, then stays, then pulls back", facts)
    other_side = grounding("the left hand rises to the mouth, then stays, then lowers", facts)
    oscillating = grounding("the right hand moves up and down", facts)
    assert right == 1.0
    # 1 of the 2 moves in order (a true "stays" earns nothing), the hand named: F1 2/3
    assert reversed_ == pytest.approx(2 / 3)
    assert wrong_way == 0.0  # no claimed move happens; the true "stays" does not rescue it
    # a claim of rest counts only when false
    assert grounding("the right hand rises to the mouth, then lowers. the torso and legs stay "
                     "still", facts) == 1.0
    assert grounding("the right hand stays still", facts) == 0.0
    assert other_side == 0.0  # the moving hand is never named
    assert oscillating == 0.0  # one rise and one lowering are not an oscillation
    assert grounding("nothing to see", facts) is None


def test_an_oscillation_claim_needs_an_oscillation():
    t = np.arange(int(3 * FPS)) / FPS
    facts = _clip_facts(1.1 + 0.15 * np.sin(2 * np.pi * 1.5 * t))  # 4.5 cycles of +-7 cm
    assert any(k == "osc1" for p, k, *_ in facts["events"] if p == "right hand")
    assert grounding("the right hand moves up and down", facts) == 1.0
    assert grounding("the right hand moves side to side", facts) == 0.0


def test_facts_of_a_2d_pose_estimator_clip():
    from bench.data.layouts import get_layout

    layout = get_layout("coco17")
    image = {"nose": (100, 40), "left eye": (104, 36), "right eye": (96, 36), "left ear": (108, 40),
             "right ear": (92, 40), "left shoulder": (120, 80), "right shoulder": (80, 80),
             "left elbow": (125, 130), "right elbow": (75, 130), "left wrist": (125, 175),
             "right wrist": (75, 175), "left hip": (110, 180), "right hip": (90, 180),
             "left knee": (110, 250), "right knee": (90, 250), "left ankle": (110, 320),
             "right ankle": (90, 320)}  # pixels, y down; the spine is ~100 px
    pose = np.array([(*image[j], 1.0) for j in layout.joints], dtype=np.float32)
    clip = np.repeat(pose[None], int(2 * FPS), 0)
    clip[:, layout.joints.index("right wrist"), 1] = np.concatenate(
        [_ramp(175, 175, .5), _ramp(175, 60, .5), _ramp(60, 60, 1)])  # rises to the face
    facts = skeleton_facts(clip[None, None], np.array([len(clip)]), layout, FPS)[0]
    assert ("right hand", "up") in [(p, k) for p, k, *_ in facts["events"]]
    assert grounding("the right hand rises to the mouth and stays there", facts) == 1.0


def test_a_nod_is_seen_by_the_head_s_tilt_not_its_position():
    from bench.data.layouts import get_layout

    layout = get_layout("ntu25")
    pose = np.array([_REST[j] for j in layout.joints], dtype=np.float32)
    angle = np.radians(np.concatenate([_ramp(0, 0, .5), _ramp(0, 25, .5), _ramp(25, 25, 1)]))
    clip = np.repeat(pose[None], len(angle), 0)
    # the head tips forward about the spine top by 25 degrees: its joint moves under 0.2 spines
    clip[:, layout.joints.index("head"), 1] = 1.35 + 0.2 * np.cos(angle)
    clip[:, layout.joints.index("head"), 2] = 0.2 * np.sin(angle)
    facts = skeleton_facts(clip[None, None], np.array([len(clip)]), layout, FPS)[0]
    assert [(p, k) for p, k, *_ in facts["events"]] == [("head", "down")]
    assert grounding("the head looks down and stays there", facts) == 1.0
    assert grounding("the head tilts back", facts) == 0.0


def test_a_torso_twist_is_the_shoulder_line_s_turn():
    facts = {"seconds": 2.0, "range": {}, "events": [["body", "turn", 0.5, 1.0]]}
    assert grounding("the torso twists to the left", facts) == 1.0
    assert grounding("the torso bends forward", facts) == 0.0


def test_claims_no_skeleton_fact_can_check_are_left_out():
    # one head joint has no yaw; the facts hold only the first person's parts
    assert ordered_claims("the head turns to the left, then the head shakes side to side") == []
    assert ordered_claims("the right hand rises, then the second person's torso leans back and "
                          "their head turns to the left") == [(0, "right hand", ("up",))]
    assert ordered_claims("the right hand moves to the other person's chest, then the second "
                          "person staggers back") == [(0, "right hand", ("any",))]


def test_a_sentence_of_rest_speaks_of_the_whole_clip():
    facts = {"seconds": 3.0, "range": {"left leg": 0.5, "right hand": 0.5},
             "events": [["left leg", "forward", 0.1, 0.3], ["right hand", "up", 1.0, 1.3]]}
    # the leg moved before the hand rose: "the legs stay still" is false even though they rest
    # from then on
    assert grounding("the right hand rises. the legs stay still", facts) < 1.0
    assert grounding("the right hand rises. the torso stays still", facts) == pytest.approx(
        2 * 1.0 * 0.5 / 1.5)  # precision 1, the moving leg not named: recall 1/2


def test_old_facts_without_times_still_score():
    assert grounding("right hand rises, left leg kicks forward",
                     ["right hand|moving", "right hand|up"]) == pytest.approx(2 / 3)
    assert grounding("legs stay still", ["left leg|moving"]) == 0.0


def test_a_constant_text_grounds_worse_than_texts_made_for_each_clip(tmp_path):
    from bench.data.layouts import get_layout
    from bench.data.ntu.loader import find_skeleton_files, load_ntu_arrays
    from bench.data.synthetic.generator import generate_ntu, read_descriptions

    root = generate_ntu(tmp_path / "syn", actions=range(1, 50), cameras=(1,), performers=(1, 2),
                        replications=(1,))
    files = find_skeleton_files(root)
    ids = sorted(files)
    keypoint, frames, _ = load_ntu_arrays([files[i] for i in ids])
    refs = [read_descriptions(root)[i]["description"] for i in ids]
    facts = skeleton_facts(keypoint, frames, get_layout("ntu25"), 30.0)
    own = np.mean([grounding(r, f) for r, f in zip(refs, facts)])
    constant = np.mean([grounding("the right hand rises to the mouth, then stays, then lowers "
                                  "to the side", f) for f in facts])
    shifted = np.mean([grounding(refs[(i + 7) % len(refs)], f) for i, f in enumerate(facts)])
    assert own > 0.8 and own > constant + 0.3 and own > shifted + 0.2


# ---- faithfulness ------------------------------------------------------------------------------

def test_erasure_summary_by_hand():
    records = [
        {"cited": 2, "tokens": 6, "p": 0.9, "p_drop_cited": 0.3, "p_keep_cited": 0.8,
         "p_drop_random": 0.8, "p_keep_random": 0.4},
        {"cited": 3, "tokens": 3, "p": 0.5, "p_drop_cited": 0.1, "p_keep_cited": 0.5,
         "p_drop_random": 0.1, "p_keep_random": 0.5},  # cites every token: no deletion score
        None, {"cited": 0, "tokens": 4, "p": 0.7},  # not tested / cites nothing
    ]
    s = X.erasure_summary(records)
    assert s["erasure_samples"] == 2
    assert s["comprehensiveness"] == pytest.approx(((0.9 - 0.3) + (0.5 - 0.1)) / 2)
    assert s["comprehensiveness_random"] == pytest.approx(((0.9 - 0.8) + (0.5 - 0.1)) / 2)
    assert s["sufficiency"] == pytest.approx(((0.9 - 0.8) + 0.0) / 2)
    assert s["sufficiency_random"] == pytest.approx(((0.9 - 0.4) + 0.0) / 2)
    assert s["faith_samples"] == 1
    assert s["faith_cited_drop"] == pytest.approx(0.6)
    assert s["faithfulness"] == pytest.approx(0.6 - 0.1)


def test_faithfulness_deletion_against_random():
    from bench.methods.lvlm_var.faithfulness import cited_positions
    from bench.methods.lvlm_var.faithfulness import erasure_test as deletion_test

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
    drop = r.get("p_drop_cited", r.get("p_cited"))
    assert math.isclose(drop, softmax(np.array([1.0, 0.0])))  # both cited 1s deleted
    summary = X.erasure_summary(rec)  # old-style and ERASER records both read
    assert summary["faith_samples"] == 2 and summary["faithfulness"] >= 0
    assert deletion_test(score_fn, tokens, texts, scores, descriptions, 0, 0) == [None] * 3


# ---- consistency -------------------------------------------------------------------------------

def test_consistency_prototypes_come_from_train_explanations():
    names = ["class a", "class b"]
    train = {"0": ["both legs kick forward", "the right leg kicks forward"],
             "1": ["the right hand rises to the mouth", "both hands rise to the head"]}
    protos, source = X.class_prototypes(names, np.array([0, 1]), None, train)
    assert source == "train explanations"
    texts = ["the left leg kicks forward", "the left hand rises to the mouth"]
    assert X.consistency(texts, np.array([0, 1]), protos) == 1.0
    assert X.consistency(texts, np.array([1, 0]), protos) == 0.0
    _, mixed = X.class_prototypes(names, np.array([0, 1]), None, {"0": train["0"]})
    assert mixed == "class names (1 classes), train explanations (1 classes)"
