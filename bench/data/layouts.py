"""Skeleton layouts: joint names, bones and body parts (0-based joint indices)."""
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

LAYOUTS = {layout.name: layout for layout in (NTU25, KINECT20)}


def get_layout(name: str) -> Layout:
    if name not in LAYOUTS:
        raise BenchError(f"unknown skeleton layout {name!r}; expected one of {sorted(LAYOUTS)}")
    return LAYOUTS[name]
