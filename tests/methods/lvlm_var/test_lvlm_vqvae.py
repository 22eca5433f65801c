"""LVLM-VAR's default VST: a VQ-VAE whose tokens narrate a clip's motion, learned without labels.

Clips here are built in phases (standing still, then one body part moving along one axis, then
another part), so a tokenizer that describes motion must give different tokens within a clip.
"""
from __future__ import annotations

import numpy as np
import torch
from toys import STANDING_POSE  # a standing NTU25 pose in the body frame, metres

from bench.data.layouts import NTU25
from bench.methods.lvlm_var.features import split_windows

_PARTS = {"right arm": (9, 10, 11, 23, 24), "left arm": (5, 6, 7, 21, 22),
          "right leg": (17, 18, 19), "left leg": (13, 14, 15)}
_PHASES = [("right arm", 1), ("left arm", 1), ("right leg", 2), ("left arm", 2)]


def phased_clip(first: int, second: int, rng: np.random.Generator, frames: int = 90):
    """Still for a third of the clip, then phase `first` (a part rises / moves forward and back),
    then phase `second`."""
    body = np.repeat(STANDING_POSE[None], frames, axis=0) * rng.uniform(0.9, 1.1)
    third = frames // 3
    for k, phase in enumerate((first, second)):
        part, axis = _PHASES[phase]
        t = np.linspace(0, np.pi, third)
        span = slice(third * (k + 1), third * (k + 2))
        for j in _PARTS[part]:
            body[span, j, axis] += 0.4 * np.sin(t)
    return (body + rng.normal(0, 0.005, body.shape)).astype(np.float32)


def phased_windows(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    kp = np.zeros((n, 1, 90, 25, 3), dtype=np.float32)
    for i, y in enumerate(labels):
        kp[i, 0] = phased_clip(int(y), (int(y) + 1) % 4, rng)
    windows = split_windows(kp, np.full(n, 90), NTU25, window=16, stride=5.0, pose_frames=4)
    return windows, labels


def _cfg(**over):
    from bench.methods.lvlm_var.config import default_config, section

    cfg = section(default_config("smoke"), "vst")
    cfg.update({"epochs": 15, "vq_epochs": 5, "codebook": 16, **over})
    return cfg


def _train(windows, labels, **over):
    from bench.methods.lvlm_var.vst import train_vst

    return train_vst(windows, labels, 4, _cfg(**over), seed=0, device="cpu", layout="ntu25")


def test_tokens_change_within_a_clip_where_the_motion_changes():
    windows, labels = phased_windows(40, seed=0)
    model = _train(windows, labels)
    codes = model.window_codes(windows)
    first = [codes[windows.clip_slice(i)] for i in range(len(labels))]
    distinct = np.mean([len(set(seq.tolist())) for seq in first])
    assert distinct >= 2.5, distinct
    # the still opening and the moving middle of a clip get different tokens
    starts, middles = [seq[0] for seq in first], [seq[len(seq) // 2] for seq in first]
    assert np.mean(np.array(starts) != np.array(middles)) > 0.8
    # reconstruction beats predicting the mean of every target column (1.0)
    assert model.train_stats["reconstruction_error"] < 0.7


def test_tokens_are_learned_without_labels():
    windows, labels = phased_windows(24, seed=1)
    a = _train(windows, labels).window_codes(windows)
    b = _train(windows, np.random.default_rng(5).permutation(labels)).window_codes(windows)
    assert np.array_equal(a, b)  # labels play no part at vst.label_weight=0
    c = _train(windows, labels, label_weight=1.0).window_codes(windows)
    assert not np.array_equal(a, c)  # ... and do once the knob turns the label term on


def test_motion_target_reads_the_window_layout():
    from bench.methods.lvlm_var.vqvae import motion_target

    windows, _ = phased_windows(3, seed=2)
    target, weight = motion_target(windows.features, 4, "none", velocity_weight=2.0)
    per_person = 4 * 25 * 3 + 25 * 3 + 4 * 3
    assert windows.features.shape[1] == 2 * per_person + 2
    assert target.shape[1] == 2 * (per_person + 3 * 25 * 3)  # + velocities between 4 poses
    assert np.isclose(weight.mean(), 1.0) and weight.max() / weight.min() == 2.0
    poses = windows.features[:, :300].reshape(-1, 4, 75)
    assert np.allclose(target[:, 300:525], np.diff(poses, axis=1).reshape(len(poses), -1))


def test_semantic_projector_needs_a_label_term():
    import pytest

    from bench.errors import BenchError
    from bench.methods.lvlm_var.config import check_config, default_config

    cfg = {**default_config("cpu"), "lvlm.projector": "semantic", "vst.parts": "none"}
    with pytest.raises(BenchError, match="label_weight"):
        check_config(cfg)
    check_config({**cfg, "vst.label_weight": 0.5})
    with pytest.raises(BenchError, match="vst.parts"):  # no single class head per part
        check_config({**cfg, "vst.label_weight": 0.5, "vst.parts": "body5"})


def test_default_cpu_tokens_are_not_merged_and_window_local():
    from bench.methods.lvlm_var.config import default_config

    cfg = default_config("cpu")
    assert cfg["vst.objective"] == "reconstruct" and cfg["vst.label_weight"] == 0
    assert not cfg["vst.merge_runs"] and cfg["vst.context"] == "none"
    assert cfg["vst.encoder"] == "mlp" and cfg["lvlm.projector"] == "mlp"
    assert cfg["lvlm.injection"] == "vocab" and cfg["lvlm.code_init"] == "description"
    assert torch.get_num_threads() == 1
