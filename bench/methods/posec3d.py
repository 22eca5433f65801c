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
from bench.methods.mmaction_gcn import (RECIPE_KEYS, MMActionGCN, datasets_of, check_layout,
                                        point_at_annotations)


REGISTER = {"posec3d": {"class": "PoseC3D", "tags": ["skeleton", "mmaction"]}}


class PoseC3D(MMActionGCN):
    """PoseC3D, joint heatmaps, SlowOnly-R50 as MMAction2 1.2.0 trains it on NTU60."""

    RECIPE = "posec3d"  # baselines/posec3d_<profile>.py
    KEYS = RECIPE_KEYS  # heatmaps of all joints: no stream; no skeleton augmentation
    OPTIONAL_KEYS = frozenset()

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
