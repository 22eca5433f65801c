"""LVLM-VAR on 2D pose-estimator data (coco17: image x, y and a score per joint)."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
from toys import named_motion_bundle


# NTU-25 joint behind each COCO-17 joint (the face keypoints all sit at the head).
NTU_OF_COCO = [3, 3, 3, 3, 3, 4, 8, 5, 9, 6, 10, 12, 16, 13, 17, 14, 18]


def to_coco17(subset):
    """Project the toy NTU clips through a pinhole camera into COCO-17 (x, y, score) pixels."""
    kp = subset.keypoint[:, :, :, NTU_OF_COCO]
    present = np.abs(kp).sum(-1, keepdims=True) > 0
    z = np.where(present[..., 0], kp[..., 2], 1.0)
    u, v = 960 + 1000 * kp[..., 0] / z, 540 - 1000 * kp[..., 1] / z
    out = np.stack([u, v, np.ones_like(u)], axis=-1) * present
    return dataclasses.replace(subset, keypoint=out.astype(np.float32))


def test_virtual_joints_give_an_upright_body_frame():
    from bench.data.layouts import get_layout
    from bench.methods.lvlm_var.features import normalise_clip, with_virtual_joints

    data = named_motion_bundle(num_classes=1, train_per_class=1, test_per_class=1)
    clip = to_coco17(data.train).keypoint[0]
    pts, layout = with_virtual_joints(clip[None], get_layout("coco17"))
    assert pts.shape == (1, 2, 80, 24, 3) and layout.dims == 3
    j = layout.joints.index
    assert np.allclose(pts[0, 0, 0, j("spine base")],
                       (pts[0, 0, 0, j("left hip")] + pts[0, 0, 0, j("right hip")]) / 2)
    y, present = normalise_clip(pts[0], int(data.train.num_frames[0]), layout)
    # y is up: head above shoulders above hips above ankles, in spine lengths
    head, top, base, foot = (y[0, 0, j(n), 1] for n in ("head", "spine shoulder", "spine base",
                                                          "left ankle"))
    assert head > top > base > foot
    assert 0.8 < top - base < 1.2 and present[0, 0] and not present[1].any()


def test_lvlm_var_runs_on_coco17(tmp_path):
    from bench.methods.lvlm_var.method import LvlmVar

    torch.set_num_threads(1)
    data = named_motion_bundle(num_classes=3, train_per_class=10, test_per_class=4)
    data = dataclasses.replace(data, layout="coco17", train=to_coco17(data.train),
                               val=to_coco17(data.val), test=to_coco17(data.test))
    cfg = {**LvlmVar.default_config("smoke"), "eval.faithfulness_samples": 0}
    method = LvlmVar(cfg, profile="smoke", seed=0, workdir=tmp_path / "w", cache_dir=tmp_path / "c")
    method.fit(data)
    pred = method.predict(data.test, data)
    assert pred.scores.shape == (12, 3) and np.isfinite(pred.scores).all()
    assert (pred.scores.argmax(1) == pred.labels).mean() > 0.5  # chance is 1/3
    assert any(pred.texts)
