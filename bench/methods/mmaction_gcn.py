"""MMAction2 skeleton recognizers (GCNs, PoseC3D) trained by mmengine's Runner on our manifests.

A run = a config file from `baselines/` (which inherits MMAction2's shipped recipe) + the method
config dict (the values of the profile, which the adapter applies on top, so the dict stored in
the RunSpec is what ran) + the data (annotation pickle, split names, class count, graph layout).
The bundle is written once as a MMAction2/PYSKL annotation pickle in the shared cache; the run's
workdir holds mmengine's logs, config dump, checkpoints and the test scores.
"""
from __future__ import annotations

import copy
import hashlib
import json
import multiprocessing
import os
import pickle
import uuid
from pathlib import Path

import numpy as np

from bench.data.bundle import DataBundle, SkeletonSet, shared_source, trim_clip
from bench.data.layouts import get_layout
from bench.errors import BenchError
from bench.methods.base import Method
from bench.methods.gcn_recipe import (AUGMENT_STEP, bodies_in, check_augment, check_fit_on,
                                   limit_persons, set_train_augmentation,
                                   train_on_train_and_val)
from bench.methods.gcn_models.layouts import MMACTION_NAMES, is_2d, mmaction_graph
from bench.methods.mmaction_setup import quiet_warnings, run_phase
from bench.specs import Predictions

SPLITS = ("train", "val", "test")
STATE_FILE = "trained.json"
# The GCN input streams, as MMAction2's GenSkeFeat names them (bone = joint - parent joint;
# motion = difference between consecutive frames).
STREAM_FEATS = {"joint": "j", "bone": "b", "joint-motion": "jm", "bone-motion": "bm"}
# The annotation fields of a source pickle that go into bench's annotation pickle: the frame size
# MMAction2's pose transforms read (PreNormalize2D centres 2D keypoints on img_shape, else 1080p;
# PoseCompact). Other fields stay out: a `filename` one would change how PoseDataset matches ids.
POSE_FIELDS = ("img_shape", "original_shape")

# The method config is the `bench = dict(...)` block of the profile's baseline file
# (baselines/<RECIPE>_<profile>.py, read without importing mmaction by bench.recipes.read_block)
# plus `config`, that file's name; the file's MMAction2 fields refer to the block, and
# `apply_profile` applies the config (with any --set changes) to the file (`stream`: apply_data):
#   config           baseline file in baselines/ (inherits MMAction2's shipped recipe)
#   model            merged into the config's `model` (backbone widths, head in_channels)
#   stream           (GCNs) joint | bone | joint-motion | bone-motion
#   epochs, repeat   train loop epochs (also the cosine T_max) and RepeatDataset times
#   min_epoch_clips  a smaller training set is repeated up to this many clips per epoch
#   clip_len, val_clips, test_clips   UniformSampleFrames; test scores average the clips' softmax
#   batch_size, test_batch_size, num_workers
#   lr, momentum, weight_decay, nesterov, auto_scale_lr (linear lr scaling to the real batch)
#   val_interval, checkpoint ("best": best val top-1, else the last epoch), deterministic
#   augment          (GCNs) None, or RandomRotScale's {yaw_deg, tilt_deg, scale}: a train-only
#                    step right after pre-normalisation
#   fit_on           "train" (val picks the checkpoint) or "train+val": the final fit, once
#                    settings are chosen, trains on every training subject, keeps the last epoch
#   nproc            training processes: > 1 launches torchrun (gloo on CPU, nccl on GPUs);
#                    a run that an executor started under torchrun trains on all its ranks
RECIPE_KEYS = frozenset({
    "model", "epochs", "repeat", "clip_len", "val_clips", "test_clips", "batch_size",
    "test_batch_size", "num_workers", "lr", "momentum", "weight_decay", "nesterov",
    "auto_scale_lr", "val_interval", "checkpoint", "deterministic", "nproc"})


class MMActionGCN(Method):
    """Base for MMAction2 GCN recognizers; a subclass names its baseline files (RECIPE)."""

    RECIPE = ""  # profile p runs baselines/<RECIPE>_<p>.py with that file's `bench` block
    KEYS = RECIPE_KEYS | {"stream"}  # every block holds these ...
    OPTIONAL_KEYS = frozenset({"augment", "fit_on", "min_epoch_clips"})  # ... and may hold these
    # augment: null (off) or {yaw_deg, tilt_deg, scale}, each >= 0 (0 degrees is not a count)
    OWN_CHECKS = frozenset({"augment"})

    @classmethod
    def check_config(cls, config: dict) -> None:
        check_fit_on(config, cls.__name__)
        check_augment(config, cls.__name__)

    @classmethod
    def recipe_file(cls, profile: str) -> Path:
        from bench.paths import content_dir
        from bench.recipes import PROFILES

        if profile not in PROFILES:
            raise BenchError(f"{cls.__name__}: unknown profile {profile!r}; "
                             f"expected one of {PROFILES}")
        path = content_dir("baselines") / f"{cls.RECIPE}_{profile}.py"
        if not path.is_file():  # not every profile has a recipe for every model (quick)
            have = [p for p in PROFILES
                    if (content_dir("baselines") / f"{cls.RECIPE}_{p}.py").is_file()]
            raise BenchError(f"{cls.__name__}: no {profile!r} recipe ({path} does not exist); "
                             f"its profiles: {', '.join(have)}")
        return path

    @classmethod
    def default_config(cls, profile: str) -> dict:
        from bench import recipes

        path = cls.recipe_file(profile)
        block = recipes.read_block(path)
        missing = sorted(cls.KEYS - set(block))
        unknown = sorted(set(block) - cls.KEYS - cls.OPTIONAL_KEYS)
        if missing or unknown:
            raise BenchError(f"baseline file {path}: its bench block "
                             + (f"lacks {missing}" if missing else "")
                             + (" and " if missing and unknown else "")
                             + (f"sets {unknown}, which {cls.__name__} does not know"
                                if unknown else "")
                             + f" (keys: {sorted(cls.KEYS)}, optional "
                               f"{sorted(cls.OPTIONAL_KEYS)})")
        return {"config": path.name, **block}

    # --- fit / predict ----------------------------------------------------------------------

    def fit(self, data: DataBundle) -> None:
        from bench.methods.mmaction_setup import import_mmaction, trusted_checkpoints

        self.check_data(data)
        mm = import_mmaction()
        ann_file = self._annotation_file(data)
        cfg = self.build_config(mm, data, ann_file)
        from bench.methods import mmaction_dist

        nproc = int(self.config.get("nproc", 1))
        work_dir, root = cfg.work_dir, self.workdir
        if nproc > 1:  # this process launches torchrun
            best = mmaction_dist.train_with_torchrun(cfg, nproc, self.workdir)
        elif mmaction_dist.in_torchrun():  # an executor launched this run under torchrun
            work_dir, best, root = mmaction_dist.train_in_group(mm, cfg, self.workdir)
        else:
            with trusted_checkpoints(self.workdir):
                runner = run_phase(mm, cfg, "train")
            best = runner.message_hub.get_info("best_score")
        chosen = self._chosen_checkpoint(work_dir, has_val=self.selects_by_val(data))
        state = {"checkpoint": os.path.relpath(chosen, self.workdir), "ann_file": str(ann_file),
                 "selected_by": "val acc/top1" if chosen.name.startswith("best_") else "last",
                 "epoch": int(chosen.stem.rsplit("_", 1)[1]),
                 "val_top1": None if best is None else float(best),
                 # torchrun rank > 0: rank 0 wrote the checkpoint, in the same run's folder
                 "trusted_root": os.path.relpath(root, self.workdir)}
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=1))
        self._state = state

    def predict(self, split: SkeletonSet, data: DataBundle) -> Predictions:
        from bench.methods.mmaction_setup import SCORE_METRIC, import_mmaction, trusted_checkpoints

        mm = import_mmaction()
        state = self._load_state()
        ann_file, split_name = self._annotations_for(split, data)
        cfg = self.build_config(mm, data, ann_file)
        out_file = self.workdir / f"scores-{uuid.uuid4().hex[:8]}.npz"
        cfg.test_dataloader.dataset.split = split_name
        cfg.test_evaluator = [dict(type=SCORE_METRIC, out_file=str(out_file))]
        cfg.load_from = str(self.workdir / state["checkpoint"])
        for key in ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler",
                    "val_dataloader", "val_cfg", "val_evaluator"):
            cfg[key] = None
        with trusted_checkpoints(self.workdir / state.get("trusted_root", ".")):
            run_phase(mm, cfg, "test")
        with np.load(out_file) as dumped:
            by_id = {sid: i for i, sid in enumerate(dumped["sample_ids"].tolist())}
            scores, labels = dumped["scores"], dumped["labels"]
        out_file.unlink()
        missing = [sid for sid in split.sample_ids if sid not in by_id]
        if missing or len(by_id) != len(split):
            raise RuntimeError(f"MMAction2 test loop scored {len(by_id)} samples for a split of "
                               f"{len(split)} (missing e.g. {missing[:3]})")
        order = np.array([by_id[sid] for sid in split.sample_ids], dtype=np.int64)
        if not np.array_equal(labels[order], np.asarray(split.labels)):
            raise RuntimeError("labels in the annotation pickle disagree with the bundle")
        return Predictions(list(split.sample_ids), np.asarray(split.labels), scores[order])

    def diagnostics(self) -> dict:
        """The epoch whose checkpoint predicted, and its val top-1 where val chose it."""
        state = self._load_state()
        out = {"selected_epoch": state["epoch"]}
        if state["selected_by"] != "last" and state["val_top1"] is not None:
            out["val_top1"] = state["val_top1"]
        return out

    # --- config -----------------------------------------------------------------------------

    def config_path(self) -> Path:
        from bench.paths import content_dir

        path = content_dir("baselines") / self.config["config"]
        if not path.is_file():
            raise BenchError(f"baseline config {path} not found")
        return path

    def build_config(self, mm, data: DataBundle, ann_file: Path):
        """The mmengine Config of this run: baseline file + profile values + data + seed."""
        self.check_data(data)
        cfg = load_config(mm, self.config_path())
        apply_profile(cfg, self.config)
        self.apply_data(cfg, data, ann_file)
        source = self.keypoint_source(data)
        if source is not None:  # records name rows of the prepared array: read them first
            for dataset in datasets_of(cfg).values():
                dataset.pipeline = [dict(type="LoadPreparedKeypoint", **source),
                                    *dataset.pipeline]
        train_clips = len(data.train)
        if self.config.get("fit_on", "train") == "train+val" and len(data.val):
            train_on_train_and_val(cfg, inner_dataset(cfg.train_dataloader))
            train_clips += len(data.val)
        repeat_small_train_set(cfg, train_clips, int(self.config.get("min_epoch_clips", 0)))
        cfg.work_dir = str(self.workdir / "mmaction")
        cfg.default_scope = "mmaction"
        cfg.randomness = dict(seed=int(self.seed), diff_rank_seed=False,
                              deterministic=bool(self.config["deterministic"]))
        cfg.launcher = "none"
        # mmengine force-sets the process's multiprocessing start method: keep the current one
        cfg.env_cfg.mp_cfg.mp_start_method = multiprocessing.get_start_method(allow_none=True) \
            or cfg.env_cfg.mp_cfg.mp_start_method
        cfg.load_from, cfg.resume = None, False
        return cfg

    def check_data(self, data: DataBundle) -> None:
        """One-line errors for what this model cannot take (layout, stream)."""
        who = type(self).__name__
        check_layout(data, who)
        stream = self.config.get("stream", "joint")
        if stream not in STREAM_FEATS:
            raise BenchError(f"{who}: config field stream={stream!r}; expected one of "
                             f"{', '.join(STREAM_FEATS)}")
        check_fit_on(self.config, who)
        check_augment(self.config, who)

    def selects_by_val(self, data: DataBundle) -> bool:
        """Whether a val set is held out to pick the checkpoint (else: the last epoch)."""
        return len(data.val) > 0 and self.config.get("fit_on", "train") == "train"

    def apply_data(self, cfg, data: DataBundle, ann_file: Path) -> None:
        """Point the config at bench's data: annotation pickle, classes, graph, stream."""
        apply_data(cfg, ann_file=ann_file, num_classes=data.num_classes, layout=data.layout,
                   stream=self.config.get("stream", "joint"), has_val=self.selects_by_val(data))
        limit_persons(cfg, datasets_of(cfg).values(), bodies_in(data))

    # --- annotations ------------------------------------------------------------------------

    def _annotation_file(self, data: DataBundle) -> Path:
        """The bundle as a PYSKL pickle in the shared cache (same bundle, same file)."""
        # (bundle, path, source): hashing a real bundle takes seconds
        memo = getattr(self, "_ann_memo", None)
        if memo is None or memo[0] is not data:
            source = self.keypoint_source(data)  # records name rows of this file
            key = bundle_key(data) + ("" if source is None else "-rows-" + hashlib.sha256(
                json.dumps(source, sort_keys=True).encode()).hexdigest()[:8])
            memo = self._ann_memo = (data, self.cache_dir / "mmaction-ann" / f"{key}.pkl", source)
        _, path, source = memo
        if not path.is_file():
            write_annotations(path, {name: getattr(data, name) for name in SPLITS}, source)
        self.ann_file = path
        return path

    def keypoint_source(self, data: DataBundle) -> dict | None:
        """The prepared memory map the bundle's splits are rows of (None: arrays in memory):
        then the annotation records name rows and the pipelines read the keypoints."""
        return shared_source([getattr(data, name).keypoint for name in SPLITS])

    def _annotations_for(self, split: SkeletonSet, data: DataBundle) -> tuple[Path, str]:
        wanted = set(split.sample_ids)
        for name in SPLITS:
            if set(getattr(data, name).sample_ids) == wanted and len(wanted) == len(split):
                return self._annotation_file(data), name
        path = self.workdir / f"predict-{_set_key(split)}{self.ann_suffix}"
        if not path.is_file():
            self._write_split_annotations(path, {"predict": split}, data, _set_key(split))
        return path, "predict"

    ann_suffix = ".pkl"  # the annotation format the recipe's dataset reads

    def _write_split_annotations(self, path: Path, splits: dict, data: DataBundle,
                                 key: str) -> None:
        source = self.keypoint_source(data)  # what the pipelines read rows from
        same = shared_source([s.keypoint for s in splits.values()]) == source
        write_annotations(path, splits, source if same else None)

    # --- checkpoints ------------------------------------------------------------------------

    def _chosen_checkpoint(self, work_dir: str, has_val: bool) -> Path:
        work_dir = Path(work_dir)
        if self.config["checkpoint"] == "best" and has_val:
            best = sorted(work_dir.glob("best_*.pth"))
            if len(best) == 1:
                return best[0]
        last = work_dir / f"epoch_{self.config['epochs']}.pth"
        if not last.is_file():
            raise RuntimeError(f"training finished without a checkpoint at {last}")
        return last

    def _load_state(self) -> dict:
        state = getattr(self, "_state", None)
        if state is None:
            path = self.workdir / STATE_FILE
            if not path.is_file():
                raise BenchError(f"{type(self).__name__}.predict before fit ({path} missing)")
            state = self._state = json.loads(path.read_text())
        return state


def check_layout(data: DataBundle, who: str) -> None:
    """The bundle's arrays have the joint count of its declared layout."""
    layout = get_layout(data.layout)  # unknown layouts: BenchError naming the known ones
    for name in SPLITS:
        shape = getattr(data, name).keypoint.shape
        if len(getattr(data, name)) and (len(shape) != 5 or shape[3] != layout.num_joints):
            raise BenchError(f"{who}: {name} keypoints have shape {shape}; expected "
                             f"(N, M, T, {layout.num_joints}, 3) for layout {layout.name}")


# --- config editing (pure functions on an mmengine Config) --------------------------------------

def load_config(mm, path: Path):
    """mmengine's Config of a baseline file (its `mmaction::` base resolved in the wheel)."""
    with quiet_warnings():  # for `mmaction::`, mmengine reloads pkg_resources every time
        cfg = mm.Config.fromfile(str(path))
    # The `bench` block is bench's method config (default_config reads it, with Python's dict()
    # for `dict(_base_.bench, ...)`), not MMAction2's; mmengine would merge a file's block into
    # its base's key by key, so the run's config never carries it.
    cfg.pop("bench", None)
    return cfg


def apply_profile(cfg, conf: dict) -> None:
    """Set the profile's values; on the profile's own baseline file this changes nothing."""
    _merge(cfg.model, conf["model"])
    epochs = conf["epochs"]
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = conf["val_interval"]
    for scheduler in cfg.param_scheduler:
        if scheduler.get("type") == "CosineAnnealingLR" and scheduler.get("by_epoch", True):
            scheduler.T_max = epochs
    optimizer = cfg.optim_wrapper.optimizer
    optimizer.lr, optimizer.momentum = conf["lr"], conf["momentum"]
    optimizer.weight_decay = conf["weight_decay"]
    if conf["nesterov"] or "nesterov" in optimizer:  # absent means False (PoseC3D's recipe)
        optimizer.nesterov = conf["nesterov"]
    cfg.auto_scale_lr.enable = bool(conf["auto_scale_lr"])
    for loader, batch in (("train_dataloader", conf["batch_size"]),
                          ("val_dataloader", conf["batch_size"]),
                          ("test_dataloader", conf["test_batch_size"])):
        cfg[loader].batch_size = batch
        cfg[loader].num_workers = conf["num_workers"]
        cfg[loader].persistent_workers = conf["num_workers"] > 0
    train = cfg.train_dataloader
    if train.dataset.get("type") == "RepeatDataset":
        train.dataset.times = conf["repeat"]
    elif conf["repeat"] != 1:
        train.dataset = dict(type="RepeatDataset", times=conf["repeat"], dataset=train.dataset)
    for dataset, clips in ((inner_dataset(cfg.train_dataloader), None),
                           (cfg.val_dataloader.dataset, conf["val_clips"]),
                           (cfg.test_dataloader.dataset, conf["test_clips"])):
        for step in _steps(dataset.pipeline, "UniformSampleFrames"):
            step.clip_len = conf["clip_len"]
            if clips is not None:
                step.num_clips = clips
    if "augment" in conf or _steps(inner_dataset(cfg.train_dataloader).pipeline, AUGMENT_STEP):
        set_train_augmentation(inner_dataset(cfg.train_dataloader), conf.get("augment"))
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, save_last=True)


def apply_data(cfg, *, ann_file: Path, num_classes: int, layout: str, stream: str = "joint",
               has_val: bool) -> None:
    """Point a GCN config at bench's annotation pickle, splits, classes, graph layout, stream."""
    cfg.model.cls_head.num_classes = num_classes
    cfg.model.backbone.graph_cfg.layout = mmaction_graph(layout)
    point_at_annotations(cfg, ann_file, has_val)
    for dataset in datasets_of(cfg).values():
        dataset.pipeline = gcn_pipeline(dataset.pipeline, layout, stream)


def point_at_annotations(cfg, ann_file: Path, has_val: bool) -> None:
    """Datasets read bench's pickle (splits train/val/test); the test pipeline packs frame_dir."""
    for name, dataset in datasets_of(cfg).items():
        dataset.ann_file, dataset.split = str(ann_file), name
    cfg.ann_file = str(ann_file)
    for step in _steps(cfg.test_dataloader.dataset.pipeline, "PackActionInputs"):
        # the score dump identifies samples by frame_dir (= bench sample id)
        step.meta_keys = ("img_shape", "img_key", "video_id", "timestamp", "frame_dir")
    if has_val:
        cfg.default_hooks.checkpoint.update(save_best="acc/top1", rule="greater")
    else:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint.save_best = None


def gcn_pipeline(pipeline, layout: str, stream: str) -> list:
    """The recipe's pipeline for `layout` and `stream`. NTU layouts keep MMAction2's transforms
    (only GenSkeFeat's feats change); other layouts get bench's layout-aware equivalents."""
    feats = [STREAM_FEATS[stream]]
    two_d = is_2d(get_layout(layout))
    out = []
    for step in pipeline:
        step = copy.deepcopy(step)
        if step.get("type") == "GenSkeFeat":
            if layout in MMACTION_NAMES:
                step.update(dataset=MMACTION_NAMES[layout], feats=feats)
            else:
                step = dict(type="LayoutGenSkeFeat", layout=layout, feats=feats)
        elif step.get("type") == "PreNormalize3D" and layout not in MMACTION_NAMES:
            # 2D poses: MMAction2's 2D recipes centre on each sample's own img_shape (a
            # POSE_FIELDS field of the annotation pickle), and on 1080p where a sample has none
            step = dict(type="PreNormalize2D") if two_d else \
                dict(type="LayoutPreNormalize3D", layout=layout)
        elif step.get("type") == AUGMENT_STEP and two_d:
            step.update(num_coords=2)  # (x, y, score): scale x and y only
        out.append(step)
    return out


def datasets_of(cfg) -> dict:
    """{split: dataset} of the config's loaders that are set (train unwrapped from Repeat)."""
    loaders = zip(SPLITS, ("train_dataloader", "val_dataloader", "test_dataloader"))
    return {name: inner_dataset(cfg[key]) for name, key in loaders if cfg.get(key)}


def repeat_small_train_set(cfg, train_clips: int, min_epoch_clips: int) -> None:
    """Repeat a small training set so that an epoch holds at least `min_epoch_clips` clips:
    a fixed number of epochs then means enough optimiser steps on a dataset of a few hundred
    clips (UTD-MHAD, MSR Action3D) without lengthening runs on larger ones."""
    train = cfg.train_dataloader
    if min_epoch_clips <= 0 or train_clips <= 0 or train.dataset.get("type") != "RepeatDataset":
        return
    times = -(-min_epoch_clips // train_clips)  # ceil
    train.dataset.times = max(int(train.dataset.times), times)


def _merge(target, overrides: dict) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def inner_dataset(loader):
    dataset = loader.dataset
    return dataset.dataset if dataset.get("type") == "RepeatDataset" else dataset


def _steps(pipeline, type_name: str) -> list:
    return [step for step in pipeline if step.get("type") == type_name]


# --- annotation pickle (MMAction2 / PYSKL format) ------------------------------------------------

def annotation(sample_id: str, keypoint: np.ndarray, num_frames: int, label: int,
               fields: dict | None = None) -> dict:
    """One PYSKL record: keypoint (M, T, V, C) float32 without the time padding and without
    bodies that are absent throughout (at least one body is kept), plus `fields` (POSE_FIELDS)."""
    return {"frame_dir": sample_id, "label": int(label),
            "keypoint": trim_clip(keypoint, num_frames), "total_frames": int(num_frames),
            **(fields or {})}


def pose_fields(subset: SkeletonSet, i: int) -> dict:
    """The POSE_FIELDS that sample i of `subset` carries from its source."""
    extras = subset.extras[i] if subset.extras is not None else {}
    return {key: extras[key] for key in POSE_FIELDS if key in extras}


def write_annotations(path: Path, splits: dict[str, SkeletonSet],
                      source: dict | None = None) -> None:
    """{"split": {name: [ids]}, "annotations": [...]}, each sample once; written atomically.
    With `source` (the prepared memory map the splits are rows of, bundle.shared_source) a
    record holds its row ("prepared_row") instead of its keypoints: LoadPreparedKeypoint, first
    in every pipeline, reads them per sample, so neither this file nor MMAction2's dataset holds
    the keypoints of a split (NTU120's would be gigabytes)."""
    annotations, seen = [], set()
    for subset in splits.values():
        for i, sid in enumerate(subset.sample_ids):
            if sid in seen:
                continue
            seen.add(sid)
            if source is None:
                annotations.append(annotation(sid, subset.keypoint[i], subset.num_frames[i],
                                              subset.labels[i], pose_fields(subset, i)))
            else:
                annotations.append({"frame_dir": sid, "label": int(subset.labels[i]),
                                    "prepared_row": int(subset.keypoint.idx[i]),
                                    "total_frames": int(subset.num_frames[i]),
                                    **pose_fields(subset, i)})
    payload = {"split": {name: list(s.sample_ids) for name, s in splits.items()},
               "annotations": annotations}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(payload, f, protocol=4)
    os.replace(tmp, path)


def bundle_key(data: DataBundle) -> str:
    digest = hashlib.sha256(f"{data.manifest.sha256}|{data.layout}|{data.num_classes}".encode())
    for name in SPLITS:
        digest.update(_set_key(getattr(data, name)).encode())
    return digest.hexdigest()[:24]


def _set_key(subset: SkeletonSet) -> str:
    digest = hashlib.sha256("\n".join(subset.sample_ids).encode())
    for array, dtype in ((subset.labels, np.int64), (subset.num_frames, np.int64),
                         (subset.keypoint, np.float32)):
        for i in range(0, len(array), 256):  # a few clips at a time: same digest, no full copy
            digest.update(np.ascontiguousarray(array[i:i + 256], dtype=dtype).tobytes())
    fields = [pose_fields(subset, i) for i in range(len(subset))]
    if any(fields):  # unchanged keys (and cached pickles) for data without them
        from bench.data.pose.annotation_extras import encode
        digest.update(json.dumps(encode(fields)).encode())
    return digest.hexdigest()[:24]


# --- mmengine runner ----------------------------------------------------------------------------
