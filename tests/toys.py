"""Toy data and objects that several test files build: plain functions, imported as
`from toys import ...` (pyproject.toml puts tests/ on pytest's sys.path).
Fixtures belong in conftest.py; helpers used by one file stay in that file."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, top_k_accuracy_score

from bench.data.pose import kinect_v1
from bench.data.bundle import DataBundle, SkeletonSet
from bench.data.pose.pkl_io import PoseData
from bench.runner import score
from bench.specs import Predictions, RunResult, RunSpec, SplitManifest


# ------------------------------------------------------------ part-swing skeletons (knn, GCNs)

# A rough standing pose in the NTU-25 joint order (metres, y up).
REST = np.array([
    [0, 0, 0], [0, .3, 0], [0, .55, 0], [0, .7, 0], [-.2, .5, 0], [-.25, .25, 0], [-.3, 0, 0],
    [-.3, -.05, 0], [.2, .5, 0], [.25, .25, 0], [.3, 0, 0], [.3, -.05, 0], [-.1, 0, 0],
    [-.1, -.45, 0], [-.1, -.85, 0], [-.1, -.9, .1], [.1, 0, 0], [.1, -.45, 0], [.1, -.85, 0],
    [.1, -.9, .1], [0, .5, 0], [-.3, -.1, 0], [-.28, -.05, .03], [.3, -.1, 0], [.28, -.05, .03]],
    dtype=np.float32)
# Body parts that move (NTU-25 joint indices): left arm, right arm, head, left leg, right leg.
SWING_PARTS = [(5, 6, 7, 21, 22), (9, 10, 11, 23, 24), (2, 3), (13, 14, 15), (17, 18, 19)]


def part_swing_set(classes, per_class, seed, prefix, t_max=64):
    """Class c swings body part c % 5 along axis c // 5 % 3, c // 15 + 1 times per clip (60
    distinct classes); lengths, size, position, phase and noise vary per clip; every third clip
    has a second, idle body beside the first."""
    rng = np.random.default_rng(seed)
    n = classes * per_class
    kp = np.zeros((n, 2, t_max, 25, 3), np.float32)
    frames = rng.integers(t_max // 2, t_max + 1, size=n)
    labels = np.repeat(np.arange(classes), per_class)
    for i, (c, t) in enumerate(zip(labels, frames)):
        phase = np.linspace(0, 2 * np.pi, t) + rng.uniform(0, np.pi / 4)
        body = np.repeat(REST[None], t, axis=0) * rng.uniform(.9, 1.1)
        body[:, SWING_PARTS[c % 5], c // 5 % 3] += .3 * np.sin((c // 15 + 1) * phase)[:, None]
        where = np.array([rng.uniform(-1, 1), 0, 3])
        kp[i, 0, :t] = body + where + rng.normal(0, .01, body.shape)
        if i % 3 == 0:
            kp[i, 1, :t] = REST + where + np.array([1.0, 0, .5]) + rng.normal(0, .01, body.shape)
    ids = [f"{prefix}{i:04d}A{c + 1:03d}" for i, c in enumerate(labels)]
    return SkeletonSet(ids, kp, frames.astype(np.int64), labels.astype(np.int64))


def part_swing_bundle(classes=10, train=20, val=2, test=4) -> DataBundle:
    """Classes "class 0".. "class N" of part_swing_set clips; train, val and test drawn with
    seeds 0, 1, 2 (ids sorted in the manifest)."""
    sets = [part_swing_set(classes, k, seed, name) for seed, (name, k) in
            enumerate((("train", train), ("val", val), ("test", test)))]
    manifest = SplitManifest("toy", "toy", *(tuple(sorted(s.sample_ids)) for s in sets))
    return DataBundle(manifest, [f"class {c}" for c in range(classes)], "ntu25", 30.0, *sets)


# ----------------------------------------------------------- named-motion skeletons (LVLM-VAR)

# A standing NTU25 pose in the body frame (x: performer's left, y: up, z: forward), metres.
STANDING_POSE = np.array([
    [0, 1.0, 0], [0, 1.25, 0], [0, 1.5, 0], [0, 1.65, 0],
    [.18, 1.45, 0], [.2, 1.2, 0], [.22, .98, 0], [.22, .9, 0],
    [-.18, 1.45, 0], [-.2, 1.2, 0], [-.22, .98, 0], [-.22, .9, 0],
    [.1, .95, 0], [.1, .5, 0], [.1, .08, 0], [.1, .03, .1],
    [-.1, .95, 0], [-.1, .5, 0], [-.1, .08, 0], [-.1, .03, .1],
    [0, 1.45, 0], [.22, .82, 0], [.2, .88, .03], [-.22, .82, 0], [-.2, .88, .03]], dtype=np.float64)
PART_JOINTS = {"left arm": (5, 6, 7, 21, 22), "right arm": (9, 10, 11, 23, 24),
               "left leg": (13, 14, 15), "right leg": (17, 18, 19), "head": (2, 3),
               "torso": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24)}
MOTIONS = [(part, axis) for axis in (1, 2, 0) for part in
           ("right arm", "left arm", "right leg", "left leg", "head", "torso")]


def named_motion_clip(label: int, rng: np.random.Generator, frames: int,
                      fps: float = 30.0) -> np.ndarray:
    """One body (frames, 25, 3): class `label` moves one part along one body axis, seen from a
    random angle (-45..45 degrees about y), 3 m in front of the camera."""
    part, axis = MOTIONS[label % len(MOTIONS)]
    speed = (1.0 + 0.5 * (label // len(MOTIONS))) * rng.uniform(0.85, 1.15)
    t = np.arange(frames) / fps
    s = np.sin(2 * np.pi * 0.8 * speed * t + rng.uniform(0, 0.5)) ** 2  # 0..1 strokes
    body = np.repeat(STANDING_POSE[None], frames, axis=0) * rng.uniform(0.9, 1.1)
    weight = np.linspace(0.4, 1.0, len(PART_JOINTS[part]))
    amp = 0.35 if part != "torso" else 0.2
    for j, w in zip(PART_JOINTS[part], weight):
        body[:, j, axis] += amp * w * s
    body += rng.normal(0, 0.01, body.shape)
    angle = np.deg2rad(rng.uniform(-45, 45))
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0],
                    [-np.sin(angle), 0, np.cos(angle)]])
    return body @ rot.T + np.array([rng.uniform(-.5, .5), 0, 3.0])


def named_motion_set(labels, seed: int, prefix: str, t_max: int = 80) -> SkeletonSet:
    rng = np.random.default_rng(seed)
    n = len(labels)
    kp = np.zeros((n, 2, t_max, 25, 3), dtype=np.float32)
    frames = rng.integers(50, t_max + 1, n)
    for i, y in enumerate(labels):
        kp[i, 0, :frames[i]] = named_motion_clip(int(y), rng, int(frames[i]))
    ids = [f"{prefix}{i:04d}" for i in range(n)]
    return SkeletonSet(ids, kp, frames.astype(np.int64), np.asarray(labels, dtype=np.int64))


def named_motion_bundle(num_classes: int = 6, train_per_class: int = 16,
                        test_per_class: int = 6, seed: int = 0, test_seed: int = 1) -> DataBundle:
    """Classes named after their motion ("right arm up", "head forward", ... "... fast");
    train and test per class as asked, 2 val clips per class."""

    def labels(k):
        return np.repeat(np.arange(num_classes), k)

    train = named_motion_set(labels(train_per_class), seed, "tr")
    val = named_motion_set(labels(2), seed + 100, "va")
    test = named_motion_set(labels(test_per_class), test_seed, "te")
    manifest = SplitManifest("toy", "random", tuple(train.sample_ids), tuple(val.sample_ids),
                             tuple(test.sample_ids))
    names = [f"{p} {({1: 'up', 2: 'forward', 0: 'sideways'})[a]}"
             + (" fast" if i >= len(MOTIONS) else "")
             for i, (p, a) in enumerate((MOTIONS * 3)[:num_classes])]
    return DataBundle(manifest, names, "ntu25", 30.0, train, val, test)


# ------------------------------------------------------------------------------- other layouts

# NTU-25 joint of each Kinect v1 (kinect20) joint: same body points, Kinect SDK v1 order.
NTU_TO_KINECT20 = [0, 1, 20, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
# NTU-25 joint nearest each COCO-17 keypoint (face points all at the head).
NTU_TO_COCO17 = [3, 3, 3, 3, 3, 4, 8, 5, 9, 6, 10, 12, 16, 13, 17, 14, 18]


def relayout(data, layout: str):
    """The toy bundle in another layout: kinect20 (3D), or coco17 as 2D (x, y, score)."""
    joints = NTU_TO_KINECT20 if layout == "kinect20" else NTU_TO_COCO17
    for name in ("train", "val", "test"):
        subset = getattr(data, name)
        kp = subset.keypoint[:, :, :, joints].copy()
        if layout == "coco17":  # image pixels, y down, score 1 where the joint is present
            present = (kp != 0).any(-1)
            kp = np.stack([kp[..., 0] * 300 + 960, 540 - kp[..., 1] * 300, present], -1)
            kp[~present] = 0
        subset.keypoint = kp.astype(np.float32)
    data.layout = layout
    return data


# ----------------------------------------------------------------------- Kinect v1 pose pickle

KINECT_CLASSES = ["raise left hand", "raise right hand", "kick"]


def _kinect_clip(label: int, subject: int, take: int) -> np.ndarray:
    """A standing kinect20 body (1, T, 20, 3) whose moving joint depends on the class."""
    t = 20 + 3 * take + subject
    rng = np.random.default_rng(100 * label + 10 * subject + take)
    body = np.zeros((t, 20, 3), np.float32)
    body[:, :, 1] = np.linspace(0.0, 1.0, 20)[None]  # joints stacked upwards
    body[:, :, 2] = 3.0
    moving = (7, 11, 19)[label]
    body[:, moving, 1] += np.sin(np.linspace(0, 3, t)) * (0.3 + 0.02 * subject)
    return (body + rng.normal(scale=0.005, size=body.shape).astype(np.float32))[None]


def kinect_pose_data(class_names=KINECT_CLASSES, extra_split=False) -> PoseData:
    """3 classes x subjects 1-4 x takes 1-2 of kinect20 clips (ids a01_s01_t01 ...); xsub splits
    odd subjects into train; extra_split adds xview_train / xview_val (alternate clips)."""
    anns = []
    for label in range(3):
        for subject in (1, 2, 3, 4):
            for take in (1, 2):
                kp = _kinect_clip(label, subject, take)
                anns.append({"frame_dir": f"a{label + 1:02d}_s{subject:02d}_t{take:02d}",
                             "label": label, "keypoint": kp, "total_frames": kp.shape[1]})
    ids = [a["frame_dir"] for a in anns]
    split = {"xsub_train": [i for i in ids if kinect_v1.subject_of(i) % 2],
             "xsub_val": [i for i in ids if not kinect_v1.subject_of(i) % 2]}
    if extra_split:
        split.update(xview_train=ids[::2], xview_val=ids[1::2])
    return PoseData(split, anns, class_names)


# ------------------------------------------------------------------------------------- methods

def knn_method(tmp_path, **overrides):
    """knn on its smoke profile with these config overrides, working and caching in tmp_path."""
    from bench.methods.knn import KNN

    config = {**KNN.default_config("smoke"), **overrides}
    return KNN(config, profile="smoke", seed=0, workdir=tmp_path, cache_dir=tmp_path)


def lvlm_method(tmp_path, profile="smoke", cache="cache", **overrides):
    """LVLM-VAR (imported when called) working in tmp_path/work, caching in tmp_path/<cache>."""
    from bench.methods.lvlm_var.method import LvlmVar

    cfg = {**LvlmVar.default_config(profile), **overrides}
    return LvlmVar(cfg, profile=profile, seed=0, workdir=tmp_path / "work",
                   cache_dir=tmp_path / cache)


# ----------------------------------------------------------------------- stored runs (reports)

def ntu_ids(n: int) -> list[str]:
    """n NTU-style sample ids (actions A001..A100, then the next performer)."""
    return [f"S001C001P{1 + i // 100:03d}R001A{i % 100 + 1:03d}" for i in range(n)]


def store_toy_run(store, method, labels, scores, seed=0, manifest="m" * 64, config=None,
                  texts=None, extra=None, suite="mini-xsub", data="synthetic:x", profile="smoke"):
    """Commit one finished run of these labels and scores to `store`; returns its stored result."""
    spec = RunSpec(suite, method, config or {}, seed, manifest, profile, data)
    p = Predictions(ntu_ids(len(labels)), labels, scores, texts, extra or {})
    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "done", score(p)), p)
    return store.load_result(spec.run_id)


def md_table_list(text):
    """[(section heading, headers, rows as dicts)] for every Markdown table, in order."""
    out, heading, lines = [], None, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("## "):
            heading = line[3:]
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|--"):
            cols = [c.strip() for c in line.strip("|").split("|")]
            rows, j = [], i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(dict(zip(cols, [c.strip() for c in lines[j].strip("|").split("|")])))
                j += 1
            out.append((heading, cols, rows))
    return out


def md_tables(text):
    """{section heading: [row dicts]} for every Markdown table of a report (a section's last)."""
    return {heading: rows for heading, _, rows in md_table_list(text)}


# ---------------------------------------------------------------------- reference computations

def independent_bootstrap(labels, scores_list, resamples, seed):
    """The documented procedure, recomputed with scikit-learn on each resample."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    out = {"top1": [], "top5": [], "mean_class_acc": [], "macro_f1": []}
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        y = labels[idx]
        per_run = {k: [] for k in out}
        for scores in scores_list:
            s = scores[idx]
            pred = s.argmax(1)
            per_run["top1"].append(np.mean(pred == y))
            per_run["top5"].append(top_k_accuracy_score(y, s, k=5, labels=np.arange(s.shape[1])))
            per_run["mean_class_acc"].append(balanced_accuracy_score(y, pred))
            per_run["macro_f1"].append(f1_score(y, pred, average="macro"))
        for k in out:
            out[k].append(np.mean(per_run[k]))
    return {k: np.percentile(v, [2.5, 97.5]) for k, v in out.items()}


def unscoped(node):
    """An mmengine config value without the `_scope_` marks added to dicts read through
    `mmaction::` bases (to compare a shipped config with the one it inherits)."""
    if isinstance(node, dict):
        return {k: unscoped(v) for k, v in node.items() if k != "_scope_"}
    if isinstance(node, (list, tuple)):
        return [unscoped(v) for v in node]
    return node
