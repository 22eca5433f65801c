"""Converters for two real Kinect v1 datasets into the MMAction2/PYSKL pickle format.

Both store 20 Kinect v1 joints but in their own orders; the converters reorder them into bench's
`kinect20` (the Kinect SDK v1 order, see ../layouts.py). Splits follow the datasets' cross-subject
protocol: odd subjects train (`xsub_train`), even subjects test (`xsub_val`, MMAction2's name
for the test partition). One person per clip (M = 1); coordinates in metres, y up.

- UTD-MHAD: `aA_sS_tT_skeleton.mat`, variable `d_skel` (20, 3, T), joint order in the dataset's
  Skeleton_joint_order.txt (head, shoulder centre, spine, hip centre, then the limbs as kinect20).
- MSR Action3D: `real_world_coordinates/aAA_sSS_eEE_skeleton3D.txt`, 20 lines of `x y z c` per
  frame in the order of the dataset's body_model.mat (left/right shoulder, shoulder centre, spine,
  left/right hip, hip centre, elbows, wrists, hands, knees, ankles, feet, head). Only the 557
  sequences of files_used_in_cvpr12_paper.txt are used when that list is present (the others
  are the ones the dataset's authors dropped for broken skeletons); frames where tracking was
  lost (all joints zero) are removed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bench.data.pose.kinect_v1_classes import ACTIONS, FPS
from bench.data.pose.pkl_io import PoseData
from bench.errors import DataError

# kinect20 joint i is the dataset's joint SOURCE[i] (0-based).
UTD_TO_KINECT20 = (3, 2, 1, 0) + tuple(range(4, 20))
MSR_TO_KINECT20 = (6, 3, 2, 19, 0, 7, 9, 11, 1, 8, 10, 12, 4, 13, 15, 17, 5, 14, 16, 18)

_UTD_FILE = re.compile(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat")
_MSR_FILE = re.compile(r"a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt")
MSR_COORD_DIR = "real_world_coordinates"
MSR_FILE_LIST = "files_used_in_cvpr12_paper.txt"
SUBJECT_IN_ID = re.compile(r"_s(\d+)_")


@dataclass(frozen=True)
class KinectV1Dataset:
    name: str
    actions: tuple[str, ...]
    subjects: int
    fps: float
    find: Callable[[Path], list[tuple[str, Path]]]  # root -> sorted (sample id, file)
    read: Callable[[Path], np.ndarray | None]  # file -> (T, 20, 3) in kinect20 order, or None


def subject_of(sample_id: str) -> int | None:
    match = SUBJECT_IN_ID.search(sample_id)
    return int(match.group(1)) if match else None


def convert(dataset: KinectV1Dataset, root: str | Path) -> tuple[PoseData, list[str]]:
    """The dataset under root as PoseData, and the ids of clips skipped for having no frame."""
    annotations, skipped = [], []
    for sample_id, path in dataset.find(Path(root)):
        clip = dataset.read(path)
        if clip is None:
            skipped.append(sample_id)
            continue
        annotations.append({"frame_dir": sample_id, "label": int(sample_id[1:3]) - 1,
                            "keypoint": np.ascontiguousarray(clip[None], dtype=np.float32),
                            "total_frames": int(clip.shape[0])})
    if not annotations:
        raise DataError(f"{root}: no {dataset.name} clip with a tracked skeleton")
    ids = [a["frame_dir"] for a in annotations]
    split = {"xsub_train": [i for i in ids if subject_of(i) % 2 == 1],
             "xsub_val": [i for i in ids if subject_of(i) % 2 == 0]}
    return PoseData(split, annotations, list(dataset.actions)), skipped


def _checked_root(root: Path, name: str) -> Path:
    if not root.is_dir():
        raise DataError(f"{name} folder {root} does not exist: point --data-root at it")
    return root


def _ids(path: Path, pattern: re.Pattern, dataset: str, actions: int, subjects: int,
         kind: str) -> str:
    match = pattern.fullmatch(path.name)
    if not match:
        raise DataError(f"{path}: file name does not parse as a {dataset} skeleton file")
    action, subject, take = (int(g) for g in match.groups())
    if not (1 <= action <= actions and 1 <= subject <= subjects):
        raise DataError(f"{path}: action {action} / subject {subject} outside {dataset}'s "
                        f"1..{actions} / 1..{subjects}")
    return f"a{action:02d}_s{subject:02d}_{kind}{take:02d}"


# ---- UTD-MHAD ----------------------------------------------------------------------------------

def find_utd_mhad(root: Path) -> list[tuple[str, Path]]:
    root = _checked_root(root, "UTD-MHAD")
    found = sorted((_ids(p, _UTD_FILE, "UTD-MHAD", 27, 8, "t"), p)
                   for p in root.glob("a*_s*_t*_skeleton.mat"))
    if not found:
        raise DataError(f"{root} holds no UTD-MHAD skeleton files (expected "
                        f"aA_sS_tT_skeleton.mat)")
    return found


def read_utd_mhad(path: Path) -> np.ndarray:
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:  # scipy raises several types for a corrupt file
        raise DataError(f"{path}: not a readable MATLAB file ({exc})") from None
    skel = mat.get("d_skel")
    if not isinstance(skel, np.ndarray) or skel.ndim != 3 or skel.shape[:2] != (20, 3) \
            or skel.shape[2] < 1:
        got = getattr(skel, "shape", None if skel is None else type(skel).__name__)
        raise DataError(f"{path}: d_skel: expected a (20, 3, T) array, got {got}")
    clip = np.transpose(skel, (2, 0, 1)).astype(np.float32)  # (T, 20, 3)
    return clip[:, UTD_TO_KINECT20]


# ---- MSR Action3D ------------------------------------------------------------------------------

def find_msr_action3d(root: Path) -> list[tuple[str, Path]]:
    root = _checked_root(root, "MSR Action3D")
    coords = root / MSR_COORD_DIR if (root / MSR_COORD_DIR).is_dir() else root
    files = {_ids(p, _MSR_FILE, "MSR Action3D", 20, 10, "e"): p
             for p in coords.glob("a*_s*_e*_skeleton3D.txt")}
    if not files:
        raise DataError(f"{coords} holds no MSR Action3D skeleton files (expected "
                        f"aAA_sSS_eEE_skeleton3D.txt)")
    listed = coords / MSR_FILE_LIST
    if listed.is_file():
        wanted = [line.strip() for line in listed.read_text().splitlines() if line.strip()]
        missing = [w for w in wanted if w not in files]
        if missing:
            raise DataError(f"{listed} lists {len(missing)} sequences with no skeleton file, "
                            f"e.g. {missing[0]}_skeleton3D.txt")
        files = {w: files[w] for w in wanted}
    return sorted(files.items())


def read_msr_action3d(path: Path) -> np.ndarray | None:
    lines = path.read_text(errors="replace").splitlines()
    try:
        values = np.array(" ".join(lines).split(), dtype=np.float64)
    except ValueError:
        for number, line in enumerate(lines, 1):
            try:
                [float(v) for v in line.split()]
            except ValueError:
                raise DataError(f"{path}, line {number}: non-numeric field in "
                                f"{line.strip()[:40]!r}") from None
        raise
    if values.size == 0 or values.size % 80:
        raise DataError(f"{path}: expected 20 lines of 'x y z confidence' per frame, got "
                        f"{values.size} numbers in {len(lines)} lines")
    clip = values.reshape(-1, 20, 4)[:, :, :3].astype(np.float32)
    clip = clip[np.abs(clip).sum(axis=(1, 2)) > 0]  # tracking lost: every joint is zero
    return clip[:, MSR_TO_KINECT20] if len(clip) else None


UTD_MHAD = KinectV1Dataset("utd-mhad", ACTIONS["utd-mhad"], 8, FPS["utd-mhad"], find_utd_mhad,
                           read_utd_mhad)
MSR_ACTION3D = KinectV1Dataset("msr-action3d", ACTIONS["msr-action3d"], 10, FPS["msr-action3d"],
                               find_msr_action3d, read_msr_action3d)
KINECT_V1_DATASETS = {d.name: d for d in (UTD_MHAD, MSR_ACTION3D)}
