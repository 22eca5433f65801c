"""LVLM-VAR end to end on the smoke profile: narrator targets, control texts, per-part tokens,
erasure citing, and the same predictions whether the VST came from the stage cache or not."""
from __future__ import annotations

import numpy as np
import pytest
from toys import lvlm_method, named_motion_bundle


@pytest.fixture(scope="module")
def bundle():
    return named_motion_bundle(num_classes=4, train_per_class=6, test_per_class=3)


def test_explanation_context_holds_the_controls_inputs():
    from bench.methods.lvlm_var.method import explanation_context

    targets = ["a", "b", "b", "c", "c", "c", "d"]
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    ctx = explanation_context(targets, labels, num_classes=3)
    assert ctx["constant_text"] == "c"  # the most frequent train explanation
    assert ctx["class_templates"] == ["b", "c", "c"]  # class 2 has none: the constant
    assert ctx["train_texts"] == {"0": ["a", "b", "b"], "1": ["c", "c", "c", "d"]}


def test_cited_tokens_are_those_whose_code_makes_the_texts_claim():
    from bench.methods.lvlm_var.faithfulness import cited_positions

    descriptions = ["body stays still", "right hand rises", "left leg kicks forward",
                    "right hand lowers"]
    tokens = [0, 1, 1, 2, 3, 0]
    assert cited_positions(tokens, "the right hand rises to the mouth", descriptions) == [1, 2]
    assert cited_positions(tokens, "the right hand lowers to the side", descriptions) == [4]
    assert cited_positions(tokens, "the left hand rises", descriptions) == []
    assert cited_positions(tokens, "", descriptions) == []


def test_fit_predict_narrates_and_gives_the_same_predictions_on_a_cache_hit(bundle, tmp_path,
                                                                           monkeypatch):
    from bench import progress
    from bench.methods.lvlm_var.narrator import narrate

    first = lvlm_method(tmp_path, **{"lvlm.epochs": 2.0})
    first.fit(bundle)
    assert first.stats["vst_cache_hit"] == 0.0
    steps = []
    monkeypatch.setattr(progress, "step", lambda *a: steps.append(a))
    p1 = first.predict(bundle.test, bundle)
    # after the predictions, the controls are a stage of the live view, step by step
    assert [s for s in steps if s[2] == "controls"] == [(i, 3, "controls") for i in range(4)]
    assert steps[-1] == (3, 3, "controls")
    second = lvlm_method(tmp_path, **{"lvlm.epochs": 2.0})  # same cache folder: the VST is read
    steps.clear()
    second.fit(bundle)
    assert second.stats["vst_cache_hit"] == 1.0
    # between the VST and the LoRA steps, each stage is shown as it starts
    labels = [s[2] for s in steps]
    assert [x for x in labels if x.startswith("prepare: ")] == [
        "prepare: tokens", "prepare: token narration", "prepare: clip narratives",
        "prepare: language model"]
    assert labels.index("prepare: language model") < labels.index("lora")
    p2 = second.predict(bundle.test, bundle)
    assert np.array_equal(p1.scores, p2.scores) and p1.texts == p2.texts
    # the targets are the train clips' own narratives, and the controls come from them
    from bench.data.layouts import get_layout
    train = bundle.train
    targets = narrate(train.keypoint, train.num_frames, get_layout(bundle.layout), bundle.fps)
    assert p1.context["constant_text"] in targets
    assert set(p1.context["class_templates"]) <= set(targets)
    assert len(set(targets)) > bundle.num_classes  # clip-specific, not one text per class
    # the LM-adds controls were measured
    for key in ("lm_top1", "token_bow_top1", "token_seq_top1", "lm_shuffled_order_top1"):
        assert 0.0 <= first.stats[key] <= 1.0
    assert first.stats["lm_top1"] == np.mean(p1.scores.argmax(1) == bundle.test.labels)
    assert first.stats["vst_test_tokens_per_clip"] >= 8  # unmerged window tokens


def test_one_codebook_per_body_part(bundle, tmp_path, monkeypatch):
    from bench import progress
    from bench.methods.lvlm_var.parts import PART_GROUPS
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    steps = []
    monkeypatch.setattr(progress, "step", lambda done, total, label: steps.append((done, total)))
    m = lvlm_method(tmp_path, **{"vst.parts": "body5", "vst.codebook": 8, "vst.epochs": 5,
                                 "vst.vq_epochs": 2})
    m.vst, hit = fit_or_load_vst(m, bundle)
    parts = len(PART_GROUPS["body5"])
    # the parts' epochs are one progress count (so its ETA spans them), not five restarts
    assert steps == [(i, 7 * parts) for i in range(1, 7 * parts + 1)]
    assert m.vst.size == 8 * parts and len(m.vst.descriptions) == 8 * parts
    tokens, stats = m.tokenize(bundle.test, bundle)
    for seq in tokens:  # whole windows, in part order
        assert len(seq) % parts == 0
        rows = np.array(seq).reshape(-1, parts)
        assert all(((rows[:, p] >= 8 * p) & (rows[:, p] < 8 * (p + 1))).all() for p in range(parts))
    right_arm = m.vst.descriptions[16:24]  # part 2 of torso, left arm, right arm, ...
    assert all(d.startswith("right hand") or d == "body stays still" for d in right_arm)
    again, hit = fit_or_load_vst(m, bundle)  # reloads from the stage cache, same codes
    assert hit and np.array_equal(again.window_codes(m._windows(bundle.test, bundle)),
                                  m.vst.window_codes(m._windows(bundle.test, bundle)))
