"""Skeleton layouts: joint names, bones and body parts (0-based joint indices).

Arrays handed to methods are always (N, M, T, V, 3). For 3D layouts the channels are x, y, z;
for 2D layouts (`dims == 2`, e.g. coco17 from a pose estimator) they are x, y and the keypoint
score, PYSKL's convention for GCNs on 2D poses. The pickle reader and writer convert between
that and the MMAction2 pair `keypoint` (M, T, V, 2) + `keypoint_score` (M, T, V).
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.errors import BenchError


@dataclass(frozen=True)
class Layout:
    name: str
    joints: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]  # (child, parent)
    parts: dict  # body part name -> tuple of joint indices
    center: int  # joint used to centre the body
    dims: int = 3  # 3: x, y, z; 2: image x, y (the third channel carries the keypoint score)

    @property
    def num_joints(self) -> int:
        return len(self.joints)


NTU25 = Layout(
    name="ntu25",
    joints=("spine base", "spine mid", "neck", "head", "left shoulder", "left elbow", "left wrist",
            "left hand", "right shoulder", "right elbow", "right wrist", "right hand", "left hip",
            "left knee", "left ankle", "left foot", "right hip", "right knee", "right ankle",
            "right foot", "spine shoulder", "left hand tip", "left thumb", "right hand tip",
            "right thumb"),
    # The Kinect v2 tree as used by ST-GCN (1-based there), rooted at spine shoulder (20).
    bones=((0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8),
           (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17),
           (19, 18), (21, 22), (22, 7), (23, 24), (24, 11)),
    parts={"head": (2, 3), "torso": (0, 1, 20), "left arm": (4, 5, 6, 7, 21, 22),
           "right arm": (8, 9, 10, 11, 23, 24), "left leg": (12, 13, 14, 15),
           "right leg": (16, 17, 18, 19)},
    center=1,
)

KINECT20 = Layout(
    name="kinect20",
    joints=("hip centre", "spine", "shoulder centre", "head", "left shoulder", "left elbow",
            "left wrist", "left hand", "right shoulder", "right elbow", "right wrist", "right hand",
            "left hip", "left knee", "left ankle", "left foot", "right hip", "right knee",
            "right ankle", "right foot"),
    bones=((1, 0), (2, 1), (3, 2), (4, 2), (5, 4), (6, 5), (7, 6), (8, 2), (9, 8), (10, 9),
           (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18)),
    parts={"head": (2, 3), "torso": (0, 1), "left arm": (4, 5, 6, 7),
           "right arm": (8, 9, 10, 11), "left leg": (12, 13, 14, 15),
           "right leg": (16, 17, 18, 19)},
    center=1,
)

COCO17 = Layout(
    name="coco17",
    joints=("nose", "left eye", "right eye", "left ear", "right ear", "left shoulder",
            "right shoulder", "left elbow", "right elbow", "left wrist", "right wrist", "left hip",
            "right hip", "left knee", "right knee", "left ankle", "right ankle"),
    # MMAction2's `coco` graph (mmaction.models.utils.graph), rooted at the nose.
    bones=((1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7), (10, 8),
           (11, 5), (12, 6), (13, 11), (14, 12), (15, 13), (16, 14)),
    parts={"head": (0, 1, 2, 3, 4), "torso": (5, 6, 11, 12), "left arm": (7, 9),
           "right arm": (8, 10), "left leg": (13, 15), "right leg": (14, 16)},
    center=0,
    dims=2,
)

LAYOUTS = {layout.name: layout for layout in (NTU25, KINECT20, COCO17)}


def get_layout(name: str) -> Layout:
    if name not in LAYOUTS:
        raise BenchError(f"unknown skeleton layout {name!r}; expected one of {sorted(LAYOUTS)}")
    return LAYOUTS[name]
