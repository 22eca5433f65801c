"""LVLM-VAR's Video-to-Semantic-Tokens stage: features, VQ codebook, tokens, descriptions, cache.

toys.named_motion_bundle builds a small class-dependent NTU25 skeleton set: each class moves one
body part along one body axis (a sinusoid), seen from a random camera angle, with per-sample body
size, speed, phase and joint noise.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from toys import lvlm_method, named_motion_bundle, named_motion_clip

from bench.data.layouts import NTU25

# where only the stage's identity matters (cache keys, what data it saw), not its quality
SHORT_VST = {"vst.epochs": 3, "vst.vq_epochs": 2}

# ----------------------------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def bundle():
    return named_motion_bundle()


def test_normalisation_undoes_camera_angle():
    from bench.methods.lvlm_var.features import normalise_clip

    rng = np.random.default_rng(0)
    clip = np.zeros((2, 60, 25, 3), dtype=np.float32)
    clip[0] = named_motion_clip(0, rng, 60)
    y, present = normalise_clip(clip, 60, NTU25)
    assert present[0].all() and not present[1].any()
    assert np.allclose(y[1], 0)
    # left shoulder ends up on +x, the head straight above the spine, the body about 2 spines tall
    assert y[0, 0, 4, 0] > 0 > y[0, 0, 8, 0]
    assert abs(y[0, 0, 3, 0]) < 0.1 and abs(y[0, 0, 3, 2]) < 0.1
    assert 1.0 < y[0, 0, 3, 1] - y[0, 0, 14, 1] < 4.0


def test_augmented_windows_keep_originals_and_perturb_copies(bundle):
    from bench.methods.lvlm_var.features import split_windows

    kw = dict(window=16, stride=7.5, pose_frames=4, context="neighbours")
    train = bundle.train
    plain = split_windows(train.keypoint, train.num_frames, NTU25, **kw)
    aug = split_windows(train.keypoint, train.num_frames, NTU25, **kw,
                        augment={"copies": 2, "noise": 0.1, "tilt": 0.3, "seed": 0})
    n, w = len(train), len(plain.features)
    assert len(aug.offsets) == 3 * n + 1 and len(aug.features) == 3 * w  # frames are unchanged
    np.testing.assert_array_equal(aug.features[:w], plain.features)  # copy 0: the clips as given
    assert np.abs(aug.features[w:2 * w] - plain.features).mean() > 0.05
    assert not np.allclose(aug.features[w:2 * w], aug.features[2 * w:])
    assert set(aug.clip_index[w:2 * w]) == set(range(n, 2 * n))  # copy c of clip i: c * n + i
    again = split_windows(train.keypoint, train.num_frames, NTU25, **kw,
                          augment={"copies": 2, "noise": 0.1, "tilt": 0.3, "seed": 0})
    np.testing.assert_array_equal(again.features, aug.features)  # seeded


def test_time_warp_keeps_length_and_end_points_and_changes_pace():
    from bench.methods.lvlm_var.features import augment_clip

    rng = np.random.default_rng(0)
    clip = np.zeros((2, 70, 25, 3), np.float32)
    clip[0, :60] = named_motion_clip(3, rng, 60)
    clip[0, 30] = 0.0  # a frame where the body was not tracked
    out = augment_clip(clip, 60, NTU25, np.random.default_rng(1), 0.0, 0.0, warp=0.6)
    assert out.shape == (2, 60, 25, 3) and not out[1].any()
    np.testing.assert_allclose(out[0, [0, 59]], clip[0, [0, 59]], atol=1e-5)
    assert np.abs(out[0, 10:50] - clip[0, 10:50]).max() > 1e-3  # the middle moved in time
    missing = np.abs(out[0]).sum(axis=(1, 2)) == 0
    assert 1 <= missing.sum() <= 2  # the untracked frame is not blended into a half pose
    # No warp, no stretch, no lean, no noise: the clip itself.
    same = augment_clip(clip, 60, NTU25, np.random.default_rng(1), 0.0, 0.0)
    np.testing.assert_allclose(same, clip[:, :60], atol=1e-5)
    wide = augment_clip(clip, 60, NTU25, np.random.default_rng(1), 0.0, 0.0, scale=0.3)
    ratio = np.abs(wide[0, 0]).sum(0) / np.abs(clip[0, 0]).sum(0)
    assert np.all((ratio > 0.69) & (ratio < 1.31)) and np.ptp(ratio) > 1e-3  # per axis


def test_vst_codebook_is_used_and_tokens_carry_class(bundle, tmp_path):
    """The supervised VST (an ablation value: vst.objective=classify) with merged runs."""
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    m = lvlm_method(tmp_path, **{"vst.objective": "classify", "vst.merge_runs": True})
    vst, hit = fit_or_load_vst(m, bundle)
    assert not hit
    m.vst = vst
    tokens, stats = m.tokenize(bundle.train, bundle)
    assert 0.3 <= stats["utilisation"] <= 1.0
    assert 2.0 < stats["perplexity"] <= vst.size
    assert 0.0 <= stats["flip_rate"] <= stats["flip_rate_unsmoothed"] <= 1.0
    assert all(1 <= len(t) <= m.config["vst.max_tokens"] for t in tokens)
    assert all(a != b for t in tokens for a, b in zip(t, t[1:]))  # runs merged
    # a code's class votes on train predict test clips well above chance
    votes = np.zeros((vst.size, bundle.num_classes))
    for t, y in zip(tokens, bundle.train.labels):
        votes[t, y] += 1
    test_tokens, _ = m.tokenize(bundle.test, bundle)
    pred = [np.argmax(votes[t].sum(0)) for t in test_tokens]
    assert np.mean(np.array(pred) == bundle.test.labels) > 3.0 / bundle.num_classes


def test_kmeans_init_sees_train_windows_only(bundle, monkeypatch, tmp_path):
    import bench.methods.lvlm_var.codebook as codebook
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    seen = []
    real = codebook.kmeans
    monkeypatch.setattr(codebook, "kmeans", lambda x, *a: seen.append(len(x)) or real(x, *a))
    m = lvlm_method(tmp_path)
    fit_or_load_vst(m, bundle)
    plain = len(m._windows(bundle.train, bundle).features)
    copies = 1 + int(m.config["vst.aug_copies"])  # the train clips and their perturbed copies
    assert seen == [copies * plain] == [len(m._windows(bundle.train, bundle, True).features)]


def test_codebook_and_descriptions_ignore_the_test_split(tmp_path):
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    a, b = named_motion_bundle(test_seed=1), named_motion_bundle(test_seed=7, test_per_class=3)
    assert not np.allclose(a.test.keypoint[:len(b.test)], b.test.keypoint)
    va, _ = fit_or_load_vst(lvlm_method(tmp_path, cache="c1", **SHORT_VST), a)
    vb, hit = fit_or_load_vst(lvlm_method(tmp_path, cache="c2", **SHORT_VST), b)
    assert not hit
    assert torch.equal(va.code_vectors, vb.code_vectors)
    assert va.descriptions == vb.descriptions


def test_stage_cache_is_shared_across_lora_ranks(bundle, tmp_path, caplog):
    import logging

    from bench.methods.lvlm_var.stage import fit_or_load_vst

    first, hit1 = fit_or_load_vst(lvlm_method(tmp_path, **SHORT_VST, **{"lora.rank": 2}), bundle)
    with caplog.at_level(logging.INFO, logger="bench"):
        second, hit2 = fit_or_load_vst(lvlm_method(tmp_path, **SHORT_VST, **{"lora.rank": 8}),
                                       bundle)
    assert (hit1, hit2) == (False, True)
    assert "cache hit" in caplog.text
    assert torch.equal(first.code_vectors, second.code_vectors)
    _, hit3 = fit_or_load_vst(lvlm_method(tmp_path, **SHORT_VST, **{"vst.codebook": 16}), bundle)
    assert not hit3


def test_descriptions_name_the_moving_part(bundle, tmp_path):
    from bench.methods.lvlm_var.semantics import STILL, describe
    from bench.methods.lvlm_var.features import KIN_DIM
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    kin = np.zeros(KIN_DIM, dtype=np.float32)
    assert describe(kin, 0.08) == STILL
    move, extent = kin[:21].reshape(7, 3), kin[21:42].reshape(7, 3)  # views
    move[3, 1] = extent[3, 1] = 0.5  # right arm (parts: head, torso, left/right arm, ...) up
    kin[43] = 0.3  # right hand ends above the head
    assert describe(kin, 0.08) == "right hand rises above head"
    move[2, 1] = extent[2, 1] = 0.45  # left arm up as well
    kin[42] = 0.3
    assert describe(kin, 0.08) == "both hands rise above head"
    kin[:] = 0
    extent[5, 2] = 0.4  # the right leg swings forward and back: range, no net displacement
    assert describe(kin, 0.08) == "right leg swings back and forth"
    vst, _ = fit_or_load_vst(lvlm_method(tmp_path), bundle)
    text = " ".join(vst.descriptions)
    assert "right hand" in text and "left hand" in text


def test_flicker_penalty_smooths_assignments():
    from bench.methods.lvlm_var.vst import viterbi

    dist = np.array([[0.0, 1.0], [0.6, 0.4], [0.0, 1.0], [0.55, 0.45], [0.0, 1.0]])
    assert viterbi(dist, 0.0).tolist() == [0, 1, 0, 1, 0]
    assert viterbi(dist, 1.0).tolist() == [0, 0, 0, 0, 0]
