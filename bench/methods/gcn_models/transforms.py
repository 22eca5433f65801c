"""Data transforms for skeleton layouts MMAction2 does not know by name, and for PoseC3D on
bench's (M, T, V, 3) arrays. Registered into MMAction2's TRANSFORMS by `register_bench_modules`;
this module imports mmaction, so only that function imports it. Module-level classes, so data
loader workers can pickle them.
"""
from __future__ import annotations

import numpy as np
from mmaction.datasets.transforms.pose_transforms import (GenSkeFeat, JointToBone, KeyMapper,
                                                          MergeSkeFeat, PreNormalize3D, ToMotion)
from mmcv.transforms import BaseTransform, Compose

from bench.data.bundle import read_rows, trim_clip
from bench.data.layouts import get_layout
from bench.methods.gcn_models.layouts import NORMALISE_JOINTS, bone_pairs, is_2d


class LayoutJointToBone(JointToBone):
    """JointToBone with the bone pairs of a bench layout."""

    def __init__(self, layout: str, target: str = "keypoint"):
        spec = get_layout(layout)
        # the 'coco' name makes the parent keep channel 2 as a score for 2D layouts
        self.dataset = "coco" if is_2d(spec) else "nturgb+d"
        self.target, self.layout, self.pairs = target, layout, bone_pairs(spec)


class LayoutGenSkeFeat(GenSkeFeat):
    """GenSkeFeat (joint / bone / motion streams, MMAction2's conventions) for any layout."""

    def __init__(self, layout: str, feats=("j",), axis: int = -1):
        spec = get_layout(layout)
        self.dataset, self.layout = ("coco" if is_2d(spec) else "nturgb+d"), layout
        self.feats, self.axis = list(feats), axis
        ops = []
        if "b" in feats or "bm" in feats:
            ops.append(LayoutJointToBone(layout, target="b"))
        ops.append(KeyMapper(remapping={"keypoint": "j"}))
        if "jm" in feats:
            ops.append(ToMotion(dataset=self.dataset, source="j", target="jm"))
        if "bm" in feats:
            ops.append(ToMotion(dataset=self.dataset, source="b", target="bm"))
        ops.append(MergeSkeFeat(feat_list=self.feats, axis=axis))
        self.ops = Compose(ops)


class LayoutPreNormalize3D(PreNormalize3D):
    """PreNormalize3D with the layout's origin joint (MMAction2 takes joint 1 only for 25
    joints and the last joint otherwise). Same steps as MMAction2's: drop empty frames, put
    the longer-present body first, centre on the first frame's origin joint, rotate the
    spine onto z and the shoulders onto x (its rotation helpers)."""

    def __init__(self, layout: str, **kwargs):
        joints = NORMALISE_JOINTS[layout]
        super().__init__(zaxis=joints["zaxis"], xaxis=joints["xaxis"], **kwargs)
        self.center, self.layout = joints["center"], layout

    def transform(self, results: dict) -> dict:
        skeleton = results["keypoint"]
        if skeleton.sum() == 0:
            return results
        present = [~np.all(np.isclose(body, 0), axis=(1, 2)) for body in skeleton]
        main = max(range(len(skeleton)), key=lambda m: (present[m].sum(), -m))
        order = [main] + [m for m in range(len(skeleton)) if m != main]
        skeleton = skeleton[order][:, present[main]]
        centre = skeleton[0, 0, self.center].copy()
        if self.align_center:
            skeleton = (skeleton - centre) * (skeleton != 0).any(-1, keepdims=True)
        for enabled, (a, b), target in ((self.align_spine, self.zaxis, [0, 0, 1]),
                                        (self.align_shoulder, self.xaxis, [1, 0, 0])):
            if enabled:
                vector = skeleton[0, 0, b] - skeleton[0, 0, a]
                if target[0] == 1:  # the shoulders go from right (a) to left (b)
                    vector = -vector
                matrix = self.rotation_matrix(np.cross(vector, target),
                                              self.angle_between(vector, target))
                skeleton = np.einsum("abcd,kd->abck", skeleton, matrix)
        results["keypoint"] = skeleton
        results["total_frames"] = skeleton.shape[1]
        results["body_center"] = centre
        return results


class RandomRotScale(BaseTransform):
    """Train-time augmentation for skeletons after pre-normalisation (origin at the body, spine
    on z): one random rotation per clip, about the vertical z axis by up to `yaw_deg` (the actor
    faces the camera a little to either side) and about x and y by up to `tilt_deg` (camera
    tilt, leaning), then one random scale factor per axis in [1 - scale, 1 + scale] (body
    proportions). Small Kinect datasets (a few hundred clips, one view) overfit without it; PYSKL
    trains with random rotation and scaling for the same reason. Absent joints (all zero) stay
    zero. `num_coords=2` (2D poses, channel 2 a score) scales x and y only."""

    def __init__(self, yaw_deg: float = 0.0, tilt_deg: float = 0.0, scale: float = 0.0,
                 num_coords: int = 3):
        if num_coords not in (2, 3) or min(yaw_deg, tilt_deg, scale) < 0 or scale >= 1:
            raise ValueError(f"RandomRotScale: yaw_deg, tilt_deg >= 0, 0 <= scale < 1 and "
                             f"num_coords 2 or 3 expected; got {yaw_deg}, {tilt_deg}, {scale}, "
                             f"{num_coords}")
        self.yaw, self.tilt = np.deg2rad(yaw_deg), np.deg2rad(tilt_deg)
        self.scale, self.num_coords = scale, num_coords

    def transform(self, results: dict) -> dict:
        kp = np.asarray(results["keypoint"], dtype=np.float32)
        n = self.num_coords
        present = (kp[..., :n] != 0).any(-1, keepdims=True)
        matrix = np.diag(1 + np.random.uniform(-self.scale, self.scale, n))
        if n == 3:
            tilt_x, tilt_y = np.random.uniform(-self.tilt, self.tilt, 2)
            yaw = np.random.uniform(-self.yaw, self.yaw)
            matrix = matrix @ _rotation(2, yaw) @ _rotation(1, tilt_y) @ _rotation(0, tilt_x)
        out = kp.copy()
        out[..., :n] = np.einsum("...c,kc->...k", kp[..., :n], matrix) * present
        results["keypoint"] = out
        return results


def _rotation(axis: int, angle: float) -> np.ndarray:
    """3x3 rotation by `angle` radians about coordinate axis 0 (x), 1 (y) or 2 (z)."""
    a, b = [i for i in range(3) if i != axis]
    out = np.eye(3)
    out[a, a] = out[b, b] = np.cos(angle)
    out[a, b], out[b, a] = -np.sin(angle), np.sin(angle)
    return out


class SkeletonToPose2D(BaseTransform):
    """bench keypoints (M, T, V, 3) -> MMAction2's 2D pose: keypoint (M, T, V, 2) in pixels,
    keypoint_score (M, T, V), img_shape. 3D layouts drop depth and look at the body from the
    front (image y points down, so y is negated), `pixels_per_unit` pixels per unit of the
    data (metres for Kinect); 2D layouts take x, y and the score channel as they are, and keep
    the sample's own img_shape / original_shape where its annotation has them (the frame the
    pose estimator saw, as MMAction2's pipeline would). Absent joints (all zero) get score 0;
    the frame size otherwise spans the keypoints plus a margin."""

    def __init__(self, layout: str, pixels_per_unit: float = 200.0, margin: float = 10.0):
        self.layout, self.pixels, self.margin = layout, pixels_per_unit, margin
        self.two_d = is_2d(get_layout(layout))

    def transform(self, results: dict) -> dict:
        kp = np.asarray(results["keypoint"], dtype=np.float32)
        present = (kp != 0).any(-1)
        if self.two_d:
            xy, score = kp[..., :2].copy(), kp[..., 2] * present
        else:
            xy = np.stack([kp[..., 0], -kp[..., 1]], -1) * self.pixels
            score = present.astype(np.float32)
            if present.any():
                xy -= xy[present].min(0) - self.margin
            xy[~present] = 0
        extent = xy[present].max(0) + self.margin if present.any() else np.full(2, 64.0)
        results["keypoint"] = xy.astype(np.float32)
        results["keypoint_score"] = score.astype(np.float32)
        if self.two_d and "img_shape" in results:
            results.setdefault("original_shape", results["img_shape"])
            return results
        results["img_shape"] = results["original_shape"] = (int(np.ceil(extent[1])),
                                                            int(np.ceil(extent[0])))
        return results


class LoadPreparedKeypoint(BaseTransform):
    """A sample's keypoints from its row ("prepared_row") of bench's prepared array, read with
    pread and cut as bench's annotation records are (mmaction_gcn.write_annotations); records
    that hold their keypoints pass unchanged."""

    def __init__(self, file: str, offset: int, shape, dtype: str):
        self.source = {"file": file, "offset": int(offset), "shape": list(shape), "dtype": dtype}

    def transform(self, results: dict) -> dict:
        row = results.pop("prepared_row", None)
        if row is not None:
            clip = read_rows(self.source, [row])[0]
            results["keypoint"] = trim_clip(clip, results["total_frames"])
        return results


def transform_classes() -> dict:
    return {cls.__name__: cls for cls in (LayoutJointToBone, LayoutGenSkeFeat,
                                          LayoutPreNormalize3D, RandomRotScale,
                                          SkeletonToPose2D, LoadPreparedKeypoint)}
