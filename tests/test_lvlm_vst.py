"""LVLM-VAR's Video-to-Semantic-Tokens stage: features, VQ codebook, tokens, descriptions, cache.

`toy_bundle` (also used by test_lvlm_method.py) builds a small class-dependent NTU25 skeleton set:
each class moves one body part along one body axis (a sinusoid), seen from a random camera angle,
with per-sample body size, speed, phase and joint noise.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.data.bundle import DataBundle, SkeletonSet  # noqa: E402
from bench.data.layouts import NTU25  # noqa: E402
from bench.specs import SplitManifest  # noqa: E402

# A standing NTU25 pose in the body frame (x: performer's left, y: up, z: forward), metres.
_POSE = np.array([
    [0, 1.0, 0], [0, 1.25, 0], [0, 1.5, 0], [0, 1.65, 0],
    [.18, 1.45, 0], [.2, 1.2, 0], [.22, .98, 0], [.22, .9, 0],
    [-.18, 1.45, 0], [-.2, 1.2, 0], [-.22, .98, 0], [-.22, .9, 0],
    [.1, .95, 0], [.1, .5, 0], [.1, .08, 0], [.1, .03, .1],
    [-.1, .95, 0], [-.1, .5, 0], [-.1, .08, 0], [-.1, .03, .1],
    [0, 1.45, 0], [.22, .82, 0], [.2, .88, .03], [-.22, .82, 0], [-.2, .88, .03]], dtype=np.float64)
_PART_JOINTS = {"left arm": (5, 6, 7, 21, 22), "right arm": (9, 10, 11, 23, 24),
                "left leg": (13, 14, 15), "right leg": (17, 18, 19), "head": (2, 3),
                "torso": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24)}
_MOTIONS = [(part, axis) for axis in (1, 2, 0) for part in
            ("right arm", "left arm", "right leg", "left leg", "head", "torso")]


def toy_clip(label: int, rng: np.random.Generator, frames: int, fps: float = 30.0) -> np.ndarray:
    part, axis = _MOTIONS[label % len(_MOTIONS)]
    speed = (1.0 + 0.5 * (label // len(_MOTIONS))) * rng.uniform(0.85, 1.15)
    t = np.arange(frames) / fps
    s = np.sin(2 * np.pi * 0.8 * speed * t + rng.uniform(0, 0.5)) ** 2  # 0..1 strokes
    body = np.repeat(_POSE[None], frames, axis=0) * rng.uniform(0.9, 1.1)
    weight = np.linspace(0.4, 1.0, len(_PART_JOINTS[part]))
    amp = 0.35 if part != "torso" else 0.2
    for j, w in zip(_PART_JOINTS[part], weight):
        body[:, j, axis] += amp * w * s
    body += rng.normal(0, 0.01, body.shape)
    angle = np.deg2rad(rng.uniform(-45, 45))
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    return body @ rot.T + np.array([rng.uniform(-.5, .5), 0, 3.0])


def toy_set(labels, seed: int, prefix: str, t_max: int = 80) -> SkeletonSet:
    rng = np.random.default_rng(seed)
    n = len(labels)
    kp = np.zeros((n, 2, t_max, 25, 3), dtype=np.float32)
    frames = rng.integers(50, t_max + 1, n)
    for i, y in enumerate(labels):
        kp[i, 0, :frames[i]] = toy_clip(int(y), rng, int(frames[i]))
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    return SkeletonSet(ids, kp, frames.astype(np.int64), np.asarray(labels, dtype=np.int64))


def toy_bundle(num_classes: int = 6, train_per_class: int = 16, test_per_class: int = 6,
               seed: int = 0, test_seed: int = 1) -> DataBundle:
    def labels(k):
        return np.repeat(np.arange(num_classes), k)

    train = toy_set(labels(train_per_class), seed, "tr")
    val = toy_set(labels(2), seed + 100, "va")
    test = toy_set(labels(test_per_class), test_seed, "te")
    manifest = SplitManifest("toy", "random", tuple(train.sample_ids), tuple(val.sample_ids),
                             tuple(test.sample_ids))
    names = [f"{p} {({1: 'up', 2: 'forward', 0: 'sideways'})[a]}" + (" fast" if i >= len(_MOTIONS) else "")
             for i, (p, a) in enumerate((_MOTIONS * 3)[:num_classes])]
    return DataBundle(manifest, names, "ntu25", 30.0, train, val, test)


# ----------------------------------------------------------------------------------- tests

def _method(tmp_path, profile="smoke", cache="cache", **overrides):
    from bench.methods.lvlm_var.method import LvlmVar

    cfg = {**LvlmVar.default_config(profile), **overrides}
    return LvlmVar(cfg, profile=profile, seed=0, workdir=tmp_path / "work",
                   cache_dir=tmp_path / cache)


@pytest.fixture(scope="module")
def bundle():
    return toy_bundle()


def test_normalisation_undoes_camera_angle():
    from bench.methods.lvlm_var.features import normalise_clip

    rng = np.random.default_rng(0)
    clip = np.zeros((2, 60, 25, 3), dtype=np.float32)
    clip[0] = toy_clip(0, rng, 60)
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
    clip[0, :60] = toy_clip(3, rng, 60)
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

    m = _method(tmp_path, **{"vst.objective": "classify", "vst.merge_runs": True})
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
    m = _method(tmp_path)
    fit_or_load_vst(m, bundle)
    plain = len(m._windows(bundle.train, bundle).features)
    copies = 1 + int(m.config["vst.aug_copies"])  # the train clips and their perturbed copies
    assert seen == [copies * plain] == [len(m._windows(bundle.train, bundle, True).features)]


def test_codebook_and_descriptions_ignore_the_test_split(tmp_path):
    from bench.methods.lvlm_var.stage import fit_or_load_vst

    a, b = toy_bundle(test_seed=1), toy_bundle(test_seed=7, test_per_class=3)
    assert not np.allclose(a.test.keypoint[:len(b.test)], b.test.keypoint)
    va, _ = fit_or_load_vst(_method(tmp_path, cache="c1"), a)
    vb, hit = fit_or_load_vst(_method(tmp_path, cache="c2"), b)
    assert not hit
    assert torch.equal(va.code_vectors, vb.code_vectors)
    assert va.descriptions == vb.descriptions


def test_stage_cache_is_shared_across_lora_ranks(bundle, tmp_path, caplog):
    import logging

    from bench.methods.lvlm_var.stage import fit_or_load_vst

    first, hit1 = fit_or_load_vst(_method(tmp_path, **{"lora.rank": 2}), bundle)
    with caplog.at_level(logging.INFO, logger="bench"):
        second, hit2 = fit_or_load_vst(_method(tmp_path, **{"lora.rank": 8}), bundle)
    assert (hit1, hit2) == (False, True)
    assert "cache hit" in caplog.text
    assert torch.equal(first.code_vectors, second.code_vectors)
    _, hit3 = fit_or_load_vst(_method(tmp_path, **{"vst.codebook": 16}), bundle)
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
    vst, _ = fit_or_load_vst(_method(tmp_path), bundle)
    text = " ".join(vst.descriptions)
    assert "right hand" in text and "left hand" in text


def test_flicker_penalty_smooths_assignments():
    from bench.methods.lvlm_var.vst import viterbi

    dist = np.array([[0.0, 1.0], [0.6, 0.4], [0.0, 1.0], [0.55, 0.45], [0.0, 1.0]])
    assert viterbi(dist, 0.0).tolist() == [0, 1, 0, 1, 0]
    assert viterbi(dist, 1.0).tolist() == [0, 0, 0, 0, 0]
