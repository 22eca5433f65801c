"""One codebook per body part (`vst.parts=body5`): a VST per part, each seeing only its joints.

A window then gives one token per part (torso with head, left arm, right arm, left leg, right
leg), so a clip's token sequence says what each part does, window by window (tokens of a window
in part order; part p's codes are p * K .. p * K + K - 1 of the combined vocabulary). Each part's
VST sees the columns of the window features that belong to its joints (poses, displacements),
the person's centre track, and the window's time and second-person flag; the layout of those
columns is the full window's, so the reconstruction target works unchanged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from bench.errors import BenchError
from bench.methods.lvlm_var.features import WindowSet

PART_GROUPS = {
    "body5": (("torso", ("head", "torso")), ("left arm", ("left arm",)),
              ("right arm", ("right arm",)), ("left leg", ("left leg",)),
              ("right leg", ("right leg",))),
}
# What a part's codes may be described by (semantics.describe's part names).
DESCRIBED_BY = {"torso": ("head", "torso", "body", "pair"), "left arm": ("left arm",),
                "right arm": ("right arm",), "left leg": ("left leg",),
                "right leg": ("right leg",)}


def part_columns(width: int, pose_frames: int, blocks: int, joints_of_part) -> np.ndarray:
    """Columns of a window feature vector (features.clip_windows's layout, `blocks` context
    copies) that belong to the given joints, plus centre track, time and second-person flag."""
    own = width // blocks
    per_person = (own - 2) // 2
    joints = (per_person // 3 - pose_frames) // (pose_frames + 1)
    cols = []
    for m in range(2):
        base = m * per_person
        for f in range(pose_frames):
            cols += [base + (f * joints + j) * 3 + a for j in joints_of_part for a in range(3)]
        disp = base + pose_frames * joints * 3
        cols += [disp + j * 3 + a for j in joints_of_part for a in range(3)]
        centre = disp + joints * 3
        cols += list(range(centre, centre + pose_frames * 3))
    cols += [2 * per_person, 2 * per_person + 1]
    return np.concatenate([np.asarray(cols) + b * own for b in range(blocks)])


def group_columns(windows: WindowSet, layout, scheme: str, pose_frames: int,
                  blocks: int) -> list[tuple[str, np.ndarray]]:
    if scheme not in PART_GROUPS:
        raise BenchError(f"vst.parts={scheme!r}: expected none or one of {sorted(PART_GROUPS)}")
    out = []
    for name, members in PART_GROUPS[scheme]:
        joints = sorted({j for part in members for j in layout.parts[part]})
        out.append((name, part_columns(windows.features.shape[1], pose_frames, blocks, joints)))
    return out


def part_windows(windows: WindowSet, columns: np.ndarray) -> WindowSet:
    return dataclasses.replace(windows, features=np.ascontiguousarray(windows.features[:, columns]))


@dataclass
class PartsVst:
    """Per-part VSTs behind the interface of one (window_codes, size, code_vectors, ...)."""

    names: list
    columns: list
    models: list
    descriptions: list = field(default_factory=list)
    train_stats: dict = field(default_factory=dict)
    code_means: object = None  # decode.CodeMeans: each code's mean train window, per part

    @property
    def size(self) -> int:
        return sum(m.size for m in self.models)

    @property
    def code_vectors(self):
        import torch
        return torch.cat([m.code_vectors for m in self.models])

    def offsets(self) -> list[int]:
        return list(np.cumsum([0] + [m.size for m in self.models[:-1]]))

    def window_codes(self, windows: WindowSet, switch_cost: float | None = None) -> np.ndarray:
        """(W, parts): each part's code of each window, in the combined vocabulary."""
        return np.stack([m.window_codes(part_windows(windows, cols), switch_cost) + off
                         for m, cols, off in zip(self.models, self.columns, self.offsets())], 1)
