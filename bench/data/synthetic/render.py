"""Skeleton -> RGB clip: the figures as the sample's own camera sees them, drawn with cv2.

NTU skeletons, real and synthetic, are stored in the camera space of the camera that recorded
the sample (the `Cccc` of `SsssCcccPpppRrrrAaaa`; the synthetic generator films every
performance from C001-C003 at 0, -45 and +45 degrees, as in the dataset). Projecting the joints
through that camera's pinhole model therefore gives that camera's view: the three cameras of one
performance render three different pictures. The pinhole is the Kinect v2 colour camera's,
fitted to the real sample's colorX/colorY columns (u = 1048 x/z + 976, v = -1056 y/z + 567 on a
1920x1080 frame); a clip keeps the central 1080x1080 square, scaled to `size` pixels.

Limbs are drawn in one colour per body part (left and right differ, as in a real image where
the sides can be told apart), nearer bodies and bones over farther ones, with widths that
shrink with depth. Rendering is deterministic (cv2 rasterisation, no randomness), and clips are
stored losslessly (FFV1 in AVI) so the decoded frames equal the rendered ones.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from bench.data.layouts import NTU25

BACKGROUND = (48, 48, 56)  # RGB
PART_COLOURS = {"head": (235, 235, 235), "torso": (200, 200, 200), "left arm": (230, 70, 60),
                "right arm": (60, 200, 80), "left leg": (70, 110, 235), "right leg": (235, 200, 60)}
LIMB_WIDTH_M = 0.07  # drawn limb width in metres
HEAD_RADIUS_M = 0.11
_SHIFT = 4  # cv2 fixed-point bits: sub-pixel joint positions, so slow motion still moves pixels
RENDER_VERSION = "1"  # bump when the pictures change (cache keys include it)


@dataclass(frozen=True)
class Pinhole:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-space metres (x left of the sensor = image right, y up, z forward)
        -> (..., 2) pixel (u, v); NaN for points at or behind the camera."""
        points = np.asarray(points, dtype=np.float64)
        z = points[..., 2]
        ok = z > 1e-3
        safe_z = np.where(ok, z, 1.0)
        u = self.cx + self.fx * points[..., 0] / safe_z
        v = self.cy - self.fy * points[..., 1] / safe_z
        uv = np.stack([u, v], axis=-1)
        uv[~ok] = np.nan
        return uv


KINECT_COLOR = Pinhole(fx=1048.0, fy=1056.4, cx=976.4, cy=567.3, width=1920, height=1080)

_BONE_COLOURS = {}
for _part, _joints in NTU25.parts.items():
    for _j in _joints:
        _BONE_COLOURS[_j] = PART_COLOURS[_part]


def square_view(camera: Pinhole, size: int) -> Pinhole:
    """The central height x height square of the camera's frame, scaled to size x size."""
    scale = size / camera.height
    return Pinhole(camera.fx * scale, camera.fy * scale,
                   (camera.cx - (camera.width - camera.height) / 2) * scale, camera.cy * scale,
                   size, size)


def render_clip(keypoint: np.ndarray, num_frames: int, size: int = 112,
                camera: Pinhole = KINECT_COLOR) -> np.ndarray:
    """keypoint (M, T, 25, 3) camera-space metres (absent bodies all zero) -> (num_frames, size,
    size, 3) uint8 RGB frames."""
    keypoint = np.asarray(keypoint, dtype=np.float64)
    if keypoint.ndim != 4 or keypoint.shape[2:] != (NTU25.num_joints, 3):
        raise ValueError(f"render_clip expects (M, T, 25, 3) joints, got {keypoint.shape}")
    num_frames = int(num_frames)
    if not 1 <= num_frames <= keypoint.shape[1] or size < 8:
        raise ValueError(f"render_clip: num_frames {num_frames} must be in 1..{keypoint.shape[1]}"
                         f" and size {size} at least 8")
    view = square_view(camera, size)
    uv = view.project(keypoint[:, :num_frames])  # (M, T, V, 2)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        frames[t] = BACKGROUND
        bodies = [m for m in range(len(keypoint)) if np.abs(keypoint[m, t]).sum() > 0]
        for m in sorted(bodies, key=lambda m: -_depth(keypoint[m, t])):  # far to near
            _draw_body(frames[t], uv[m, t], keypoint[m, t, :, 2], view.fx, dim=m > 0)
    return frames


def _depth(joints: np.ndarray) -> float:
    z = joints[:, 2]
    return float(z[z > 0].mean()) if (z > 0).any() else 0.0


def _draw_body(img: np.ndarray, uv: np.ndarray, z: np.ndarray, focal: float, dim: bool) -> None:
    import cv2

    one = 1 << _SHIFT
    fixed = np.nan_to_num(uv * one, nan=-1e6).clip(-1e6, 1e6).astype(np.int64)
    shade = 0.7 if dim else 1.0  # a second person is drawn darker, so two bodies differ

    def colour(joint):
        return tuple(int(c * shade) for c in _BONE_COLOURS[joint])

    def width(depth, metres):
        return max(1, int(round(focal * metres / max(depth, 0.3))))

    bones = [(c, p) for c, p in NTU25.bones if z[c] > 0 and z[p] > 0]
    for child, parent in sorted(bones, key=lambda b: -(z[b[0]] + z[b[1]])):  # far to near
        cv2.line(img, tuple(map(int, fixed[child])), tuple(map(int, fixed[parent])),
                 colour(child), width((z[child] + z[parent]) / 2, LIMB_WIDTH_M), cv2.LINE_AA,
                 _SHIFT)
    head = 3
    if z[head] > 0:
        cv2.circle(img, tuple(map(int, fixed[head])), width(z[head], HEAD_RADIUS_M) * one,
                   colour(head), -1, cv2.LINE_AA, _SHIFT)


# --- storage ---------------------------------------------------------------------------------

def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float = 30.0) -> Path:
    """(T, H, W, 3) uint8 RGB -> lossless FFV1 AVI at path, written atomically."""
    import cv2

    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise ValueError(f"write_video expects (T, H, W, 3) uint8 frames, got "
                         f"{frames.shape} {frames.dtype}")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.avi")  # cv2 picks the container by suffix
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"FFV1"), float(fps),
                             (frames.shape[2], frames.shape[1]))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write FFV1 video to {tmp}")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # cv2 wants BGR
    finally:
        writer.release()
    os.replace(tmp, path)
    return path


def render_videos(samples: Iterable[tuple[str, np.ndarray, int]], target: str | os.PathLike,
                  size: int, fps: float = 30.0) -> Path:
    """Render (sample_id, keypoint (M, T, 25, 3), num_frames) into target/<id>_rgb.avi.

    The folder appears complete or not at all: clips go to a temporary sibling folder that is
    renamed at the end (if another process finished first, its folder is kept)."""
    target = Path(target)
    if (target / "done").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for sample_id, keypoint, num_frames in samples:
            write_video(tmp / f"{sample_id}_rgb.avi", render_clip(keypoint, num_frames, size), fps)
        (tmp / "done").write_text(f"render v{RENDER_VERSION} size {size}\n")
        shutil.rmtree(target, ignore_errors=True)  # an incomplete leftover (no "done")
        os.rename(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "done").is_file():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
