"""PoseC3D (Duan et al. CVPR 2022): a 3D CNN on stacked joint heatmaps, MMAction2's recognizer.

Any bench layout works: `SkeletonToPose2D` (gcn_models/transforms.py) turns the suite's skeletons
into MMAction2's 2D pose fields first (3D: depth dropped, seen from the front; 2D: as they are),
then MMAction2's own pose pipeline (PoseCompact, Resize, crops, Flip, GeneratePoseTarget) makes the
heatmaps. The backbone takes one input channel per joint; Flip swaps the layout's left/right joints.
"""
from __future__ import annotations

from pathlib import Path

from bench.data.bundle import DataBundle
from bench.data.layouts import get_layout
from bench.methods.gcn_models.layouts import mirrored_joints
from bench.methods.mmaction_gcn import (COMMON, MMActionGCN, datasets_of, check_layout,
                                        point_at_annotations)

_POSE = {**COMMON, "momentum": 0.9, "weight_decay": 3e-4, "nesterov": False}


REGISTER = {"posec3d": {"class": "PoseC3D", "tags": ["skeleton", "mmaction"]}}


class PoseC3D(MMActionGCN):
    """PoseC3D, joint heatmaps, SlowOnly-R50 as MMAction2 1.2.0 trains it on NTU60."""

    PROFILES = {
        "smoke": {**_POSE, "config": "posec3d_smoke.py",
                  "model": {"backbone": {"base_channels": 8, "stage_blocks": [1, 1, 1]},
                            "cls_head": {"in_channels": 128}},
                  "epochs": 10, "clip_len": 16, "test_clips": 1, "batch_size": 8,
                  "test_batch_size": 8, "lr": 0.025},
        "cpu": {**_POSE, "config": "posec3d_cpu.py",
                "model": {"backbone": {"base_channels": 16, "stage_blocks": [2, 2, 2]},
                          "cls_head": {"in_channels": 256}},
                "epochs": 16, "clip_len": 32, "test_clips": 2, "batch_size": 16,
                "test_batch_size": 16, "lr": 0.05},
        # MMAction2's recipe: 24 epochs x RepeatDataset(10), u48, 10 test clips, lr 0.2 per 128.
        "paper": {**_POSE, "config": "posec3d_paper.py", "model": {},
                  "epochs": 24, "repeat": 10, "clip_len": 48, "test_clips": 10,
                  "batch_size": 16, "test_batch_size": 1, "lr": 0.2, "auto_scale_lr": True,
                  "num_workers": 8},
    }

    def check_data(self, data: DataBundle) -> None:
        check_layout(data, type(self).__name__)

    def apply_data(self, cfg, data: DataBundle, ann_file: Path) -> None:
        layout = get_layout(data.layout)
        left, right = mirrored_joints(layout)
        cfg.model.cls_head.num_classes = data.num_classes
        cfg.model.backbone.in_channels = layout.num_joints  # one heatmap per joint
        point_at_annotations(cfg, ann_file, has_val=len(data.val) > 0)
        for dataset in datasets_of(cfg).values():
            pipeline = [dict(type="SkeletonToPose2D", layout=layout.name)]
            for step in dataset.pipeline:
                if step.get("type") == "Flip" or "left_kp" in step:
                    step.update(left_kp=left, right_kp=right)
                pipeline.append(step)
            dataset.pipeline = pipeline
