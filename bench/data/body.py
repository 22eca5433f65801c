"""The body as LVLM-VAR's features and the grounding metric both read it: which joint stands for
each part, joint lookup by name across layouts, the virtual joints a 2D layout lacks, and a clip
in the first performer's body frame (origin at the centre joint, x to the performer's left, y up,
scaled by the mean spine length)."""
from __future__ import annotations

import functools

import numpy as np

from bench.data.layouts import Layout

# Body part -> the joint whose motion stands for the part (names shared by ntu25 and kinect20).
PART_END_JOINT = {"head": "head", "torso": ("spine shoulder", "shoulder centre"),
                  "left arm": "left hand", "right arm": "right hand",
                  "left leg": "left foot", "right leg": "right foot"}
KIN_PARTS = ("head", "torso", "left arm", "right arm", "left leg", "right leg")


# What a 2D layout (COCO-17 from a pose estimator) lacks, made from the joints it has.
VIRTUAL_JOINTS = {"spine base": ("left hip", "right hip"),
                  "spine shoulder": ("left shoulder", "right shoulder"),
                  "head": ("nose",), "left hand": ("left wrist",), "right hand": ("right wrist",),
                  "left foot": ("left ankle",), "right foot": ("right ankle",)}


def with_virtual_joints(keypoint: np.ndarray, layout: Layout) -> tuple[np.ndarray, Layout]:
    """3D layouts: unchanged. 2D layouts: image (x, y, score) -> (x, -y, 0) (y up, no depth)
    plus the VIRTUAL_JOINTS appended, so windows and kinematics work on pose-estimator data."""
    if layout.dims == 3:
        return keypoint, layout
    xy = np.asarray(keypoint[..., :2], dtype=np.float32) * np.array([1.0, -1.0], np.float32)
    pts = np.concatenate([xy, np.zeros(xy.shape[:-1] + (1,), np.float32)], axis=-1)
    extra = [pts[..., [layout.joints.index(n) for n in names], :].mean(axis=-2)
             for names in VIRTUAL_JOINTS.values()]
    joints = layout.joints + tuple(VIRTUAL_JOINTS)
    virtual = Layout(name=f"{layout.name}+virtual", joints=joints, bones=layout.bones,
                     parts=layout.parts, center=joints.index("spine base"), dims=3)
    return np.concatenate([pts, np.stack(extra, axis=-2)], axis=-2), virtual


def joint_index(layout: Layout, names) -> int:
    names = (names,) if isinstance(names, str) else names
    for name in names:
        if name in layout.joints:
            return layout.joints.index(name)
    raise KeyError(f"layout {layout.name} has none of the joints {names}")


def body_joints(layout: Layout) -> "BodyJoints":
    return _joints_of(layout.name, layout.joints, layout.center)  # once per layout, not per clip


@functools.lru_cache(maxsize=16)
def _joints_of(name: str, joints: tuple, center: int) -> "BodyJoints":
    return BodyJoints(Layout(name=name, joints=joints, bones=(), parts={}, center=center))


class BodyJoints:
    """The joint indices the normalisation and kinematics need, looked up by name."""

    def __init__(self, layout: Layout):
        self.center = layout.center
        self.base = joint_index(layout, ("spine base", "hip centre"))
        self.top = joint_index(layout, ("spine shoulder", "shoulder centre"))
        self.head = joint_index(layout, "head")
        self.lsh = joint_index(layout, "left shoulder")
        self.rsh = joint_index(layout, "right shoulder")
        self.ends = [joint_index(layout, PART_END_JOINT[p]) for p in KIN_PARTS]
        self.lhand, self.rhand = joint_index(layout, "left hand"), joint_index(layout, "right hand")


def normalise_clip(keypoint: np.ndarray, num_frames: int, layout: Layout):
    """(M, T, V, 3) raw clip -> (M, n, V, 3) in the first performer's body frame, and (M, n)
    presence."""
    j = body_joints(layout)
    n = max(int(num_frames), 1)
    x = np.asarray(keypoint[:, :n], dtype=np.float64)
    present = np.abs(x).sum(axis=(2, 3)) > 0  # (M, n)
    frames0 = np.flatnonzero(present[0])
    f0 = int(frames0[0]) if len(frames0) else 0
    origin = x[0, f0, j.center].copy()
    lateral = x[0, f0, j.lsh] - x[0, f0, j.rsh]
    lateral[1] = 0.0
    norm = np.linalg.norm(lateral)
    lateral = lateral / norm if norm > 1e-6 else np.array([1.0, 0.0, 0.0])
    up = np.array([0.0, 1.0, 0.0])
    # left = up x forward  =>  forward = left x up = (-l_z, 0, l_x) for up = (0, 1, 0)
    forward = np.array([-lateral[2], 0.0, lateral[0]])
    rot = np.stack([lateral, up, forward])  # rows: new axes
    spine = np.linalg.norm(x[0, :, j.top] - x[0, :, j.base], axis=-1)[present[0]]
    scale = float(np.mean(spine)) if len(spine) and np.mean(spine) > 1e-6 else 1.0
    y = (x - origin) @ rot.T / scale
    y[~present] = 0.0
    return y.astype(np.float32), present
