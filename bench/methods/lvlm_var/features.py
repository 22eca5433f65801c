"""Skeleton clips -> body-normalised windows -> window features and window kinematics.

Every clip is put into its first performer's body frame at the first frame: origin at the centre
joint, x towards the performer's left (shoulder line, made horizontal), y up, z forward (the way
the performer faces), lengths in units of that performer's spine. Windows of `window` frames start
every fps / token_rate frames. Per window we compute

- features (for the encoder): a few poses (relative to each person's centre), each joint's
  displacement over the window, and each person's centre trajectory, for both persons (zeros when
  the second is absent), plus the window's relative time in the clip;
- kinematics (for the code descriptions): per body part, the net displacement and the range
  covered (per axis) of its end joint relative to the spine base, the same for the spine base
  itself (the whole body), hand heights relative to the head, the change in distance between the
  two persons.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.body import KIN_PARTS, BodyJoints, body_joints, normalise_clip, with_virtual_joints
from bench.data.layouts import Layout

# Kinematics vector layout: net displacement over the window (6 parts relative to the spine base,
# then the spine base itself) x 3 axes, the range covered on each axis (same 7 x 3), left/right
# hand height above the head at the window end, two-person distance change, second person present.
KIN_DIM = (len(KIN_PARTS) + 1) * 3 * 2 + 2 + 1 + 1


@dataclass
class WindowSet:
    """All windows of a split: features, kinematics and the clip each window came from."""

    features: np.ndarray  # (W, F) float32
    kinematics: np.ndarray  # (W, KIN_DIM) float32
    clip_index: np.ndarray  # (W,) int, index of the clip in its SkeletonSet
    offsets: np.ndarray  # (N + 1,) windows of clip i are offsets[i]:offsets[i + 1]
    # For a graph encoder (vst.encoder=stgcn), else None: every clip in the body frame,
    # resampled to a fixed length, (N, persons, T, V, 3); each window's [start, end) as a
    # fraction of its clip, (W, 2).
    clips: np.ndarray | None = None
    spans: np.ndarray | None = None

    def clip_slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


def window_starts(n: int, window: int, stride: float) -> np.ndarray:
    if n <= window:
        return np.zeros(1, dtype=np.int64)
    return np.round(np.arange(0.0, n - window + 1e-6, max(stride, 1.0))).astype(np.int64)


def _pad_time(y: np.ndarray, present: np.ndarray, length: int):
    n = y.shape[1]
    if n >= length:
        return y, present
    reps = length - n
    y = np.concatenate([y, np.repeat(y[:, -1:], reps, axis=1)], axis=1)
    present = np.concatenate([present, np.repeat(present[:, -1:], reps, axis=1)], axis=1)
    return y, present


def clip_windows(y: np.ndarray, present: np.ndarray, layout: Layout, window: int, stride: float,
                 pose_frames: int, kinematics: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Features (w, F) and kinematics (w, KIN_DIM; None without `kinematics`) of one normalised
    clip's windows, all windows at once."""
    j = body_joints(layout)
    n = y.shape[1]
    starts = window_starts(n, window, stride)
    y, present = _pad_time(y, present, window)
    second = np.zeros((2,) + y.shape[1:], dtype=np.float32)
    second[: min(2, y.shape[0])] = y[:2]
    has_second = float(y.shape[0] > 1 and present[1].any())
    w = len(starts)
    idx = np.round(np.linspace(starts, starts + window - 1, pose_frames, axis=1)).astype(np.int64)
    parts = []
    for m in range(2):
        p = second[m]
        poses = p[idx]  # (w, P, V, 3)
        centre = poses[:, :, j.center]  # (w, P, 3)
        parts += [(poses - centre[:, :, None]).reshape(w, -1),
                  (p[starts + window - 1] - p[starts]).reshape(w, -1), centre.reshape(w, -1)]
    parts.append(np.stack([starts / max(n, 1), np.full(w, has_second)], 1).astype(np.float32))
    feats = np.concatenate(parts, axis=1).astype(np.float32)
    if not kinematics:
        return feats, None
    return feats, _kinematics(second, j, starts, window, has_second).astype(np.float32)


def _kinematics(p: np.ndarray, j: BodyJoints, starts: np.ndarray, window: int,
                has_second: float) -> np.ndarray:
    """(w, KIN_DIM): see the module docstring; window k covers frames starts[k] .. + window - 1."""
    frames = starts[:, None] + np.arange(window)
    body = p[0][frames]  # (w, window, V, 3)
    rel = body[:, :, j.ends] - body[:, :, j.base][:, :, None]  # relative to the spine base
    root = body[:, :, j.base]
    move = np.concatenate([rel[:, -1] - rel[:, 0], (root[:, -1] - root[:, 0])[:, None]], 1)
    extent = np.concatenate([np.ptp(rel, axis=1), np.ptp(root, axis=1)[:, None]], 1)
    heights = np.stack([body[:, -1, j.lhand, 1] - body[:, -1, j.head, 1],
                        body[:, -1, j.rhand, 1] - body[:, -1, j.head, 1]], 1)
    pair = np.zeros(len(starts))
    if has_second:
        dist = np.linalg.norm(p[1][frames][:, :, j.base] - body[:, :, j.base], axis=-1)
        pair = (dist[:, -1] - dist[:, 0]).astype(np.float64)
    return np.concatenate([move.reshape(len(starts), -1), extent.reshape(len(starts), -1),
                           heights, pair[:, None], np.full((len(starts), 1), has_second)], 1)


def with_context(f: np.ndarray, context: str) -> np.ndarray:
    """Window features with temporal context from the same clip: `none`; `neighbours` (the
    previous and next window, zeros at the ends); `clip` (neighbours and the clip mean)."""
    if context == "none":
        return f
    zero = np.zeros_like(f[:1])
    parts = [f, np.concatenate([zero, f[:-1]]), np.concatenate([f[1:], zero])]
    if context == "clip":
        parts.append(np.repeat(f.mean(0, keepdims=True), len(f), axis=0))
    return np.concatenate(parts, axis=1)


def augment_clip(x: np.ndarray, num_frames: int, layout: Layout, rng: np.random.Generator,
                 noise: float, tilt: float, warp: float = 0.0, scale: float = 0.0) -> np.ndarray:
    """A perturbed copy of a raw (M, T, V, 3) clip: time runs faster in one half and slower in
    the other (a monotone warp of strength up to `warp`, same length and end points: unseen
    performers keep other paces), each axis is stretched by up to `scale` (body proportions),
    the body leans by up to `tilt` radians about the camera's x axis, and every joint gets
    Gaussian noise of `noise` spine lengths. It is what lets the window encoder generalise to
    unseen performers on small train sets (measured on UTD-MHAD: clip accuracy of the VST head
    62% -> 83% with lean and noise)."""
    j = body_joints(layout)
    n = max(int(num_frames), 1)
    x = np.array(x[:, :n], dtype=np.float64)
    if warp > 0 and n > 2:
        u = np.linspace(0.0, 1.0, n)
        src = (u + rng.uniform(-warp, warp) * u * (1.0 - u)) * (n - 1)  # monotone for warp < 1
        lo = np.clip(np.floor(src).astype(np.int64), 0, n - 2)
        frac = (src - lo)[None, :, None, None]
        absent = np.abs(x).sum(axis=(2, 3)) == 0  # (M, n)
        missing = absent[:, lo] | absent[:, lo + 1]  # stays missing: no blend with zeros
        x = x[:, lo] * (1.0 - frac) + x[:, lo + 1] * frac
        x[missing] = 0.0
    present = np.abs(x).sum(axis=(2, 3), keepdims=True) > 0
    spine = np.linalg.norm(x[0, :, j.top] - x[0, :, j.base], axis=-1)[present[0, :, 0, 0]]
    size = float(np.mean(spine)) if len(spine) else 1.0
    a = rng.uniform(-tilt, tilt)
    rot = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])
    stretch = 1.0 + rng.uniform(-scale, scale, 3) if scale > 0 else 1.0
    y = (x @ rot.T) * stretch + rng.standard_normal(x.shape, dtype=np.float32) * (noise * size)
    return (y * present).astype(np.float32)


def split_windows(keypoint: np.ndarray, num_frames: np.ndarray, layout: Layout, *, window: int,
                  stride: float, pose_frames: int, context: str = "none",
                  augment: dict | None = None, clip_frames: int = 0,
                  clip_persons: int = 2) -> WindowSet:
    """Windows of every clip of a split (keypoint (N, M, T, V, 3)), all held in memory. With
    `augment` ({copies, noise, tilt, warp, scale, seed}), `copies` perturbed versions of every
    clip follow the originals: clip index c * N + i is copy c of clip i (copy 0 is the clip
    itself). With `clip_frames` > 0, also the normalised clips at that length, `clip_persons`
    person slots (one for single-person datasets: half the graph encoder's work), and the
    windows' spans. ClipWindows makes the same windows a batch of clips at a time."""
    source = ClipWindows(keypoint, num_frames, layout, window=window, stride=stride,
                         pose_frames=pose_frames, context=context, augment=augment,
                         clip_frames=clip_frames, clip_persons=clip_persons)
    return source.windows(np.arange(source.units))


@dataclass
class ClipWindows:
    """The windows of a split made on demand, a batch of clips at a time, so memory holds one
    batch whatever the split's size and the number of perturbed copies (keypoint may be the
    prepared memory-mapped array: only the clips asked for are read). Unit u is copy u // N of
    clip u % N (copy 0: the clip itself). A copy is perturbed by a generator seeded from
    (augment seed, copy, clip), so a unit's windows are the same whenever and in whatever batch
    they are made. `extra`: per-window columns of the original clips' windows (the video
    features), appended to every copy's windows."""

    keypoint: np.ndarray
    num_frames: np.ndarray
    layout: Layout
    window: int
    stride: float
    pose_frames: int
    context: str = "none"
    augment: dict | None = None
    clip_frames: int = 0
    clip_persons: int = 2
    extra: np.ndarray | None = None

    @property
    def clips(self) -> int:
        return len(self.num_frames)

    @property
    def copies(self) -> int:
        return 1 + (int(self.augment["copies"]) if self.augment else 0)

    @property
    def units(self) -> int:
        return self.copies * self.clips

    def window_counts(self) -> np.ndarray:
        """(units,) windows per unit, without making them."""
        n = np.maximum(np.asarray(self.num_frames, dtype=np.int64), 1)
        per_clip = np.array([len(window_starts(int(k), self.window, self.stride)) for k in n])
        return np.tile(per_clip, self.copies)

    def windows(self, units: np.ndarray, kinematics: bool = True) -> WindowSet:
        """The windows of `units` in that order; clip_index is the position in `units`."""
        base = self.layout
        joints = base.num_joints  # a graph encoder sees the layout's own joints, not the virtual
        n_clips = self.clips
        first = None
        if self.extra is not None:
            first = np.concatenate([[0], np.cumsum(self.window_counts()[:n_clips])])
        feats, kins, clip, offsets = [], [], [], [0]
        clips, spans = ([], []) if self.clip_frames > 0 else (None, None)
        for pos, u in enumerate(np.asarray(units, dtype=np.int64).tolist()):
            c, i = divmod(u, n_clips)
            frames = int(self.num_frames[i])
            x, layout = with_virtual_joints(np.asarray(self.keypoint[i]), base)
            if c > 0:
                a = self.augment
                rng = np.random.default_rng([int(a["seed"]), c, i])
                x = augment_clip(x, frames, layout, rng, float(a["noise"]), float(a["tilt"]),
                                 float(a.get("warp", 0.0)), float(a.get("scale", 0.0)))
            y, present = normalise_clip(x, frames, layout)
            f, k = clip_windows(y, present, layout, self.window, self.stride, self.pose_frames,
                                kinematics)
            f = with_context(f, self.context)
            if first is not None:
                f = np.concatenate([f, self.extra[first[i]:first[i + 1]]], axis=1)
            feats.append(f)
            if kinematics:
                kins.append(k)
            clip.append(np.full(len(f), pos))
            offsets.append(offsets[-1] + len(f))
            if clips is not None:
                clips.append(resample_clip(y[:, :, :joints], self.clip_frames, self.clip_persons))
                starts = window_starts(y.shape[1], self.window, self.stride)
                spans.append(np.stack([starts, starts + self.window], 1)
                             / max(y.shape[1], self.window))
        width = 0 if not feats else feats[0].shape[1]
        return WindowSet(np.concatenate(feats) if feats else np.zeros((0, width), np.float32),
                         np.concatenate(kins) if kins  # no kinematics: (W, 0)
                         else np.zeros((sum(len(f) for f in feats), 0 if feats and not kinematics
                                        else KIN_DIM), np.float32),
                         np.concatenate(clip) if clip else np.zeros(0, np.int64),
                         np.asarray(offsets, dtype=np.int64),
                         None if clips is None else np.stack(clips),
                         None if spans is None else np.concatenate(spans).astype(np.float32))


def resample_clip(y: np.ndarray, frames: int, persons: int) -> np.ndarray:
    """(M, n, V, 3) -> (persons, frames, V, 3): nearest frames at even steps (a short clip
    repeats frames), the first `persons` person slots (zeros where absent)."""
    idx = np.round(np.linspace(0, y.shape[1] - 1, frames)).astype(np.int64)
    out = np.zeros((persons, frames) + y.shape[2:], dtype=np.float32)
    out[: min(persons, len(y))] = y[:persons, idx]
    return out

