"""MMAction2 skeleton GCNs (ST-GCN, ...) trained with mmengine's Runner on bench's manifests.

A run = a config file from `baselines/` (which inherits MMAction2's shipped recipe) + the method
config dict (the values of the profile, which the adapter applies on top, so the dict stored in
the RunSpec is what ran) + the data (annotation pickle, split names, class count, graph layout).
The bundle is written once as a MMAction2/PYSKL annotation pickle in the shared cache; the run's
workdir holds mmengine's logs, config dump, checkpoints and the test scores.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import multiprocessing
import os
import pickle
import uuid
import warnings
from pathlib import Path

import numpy as np

from bench.data.bundle import DataBundle, SkeletonSet
from bench.errors import BenchError
from bench.methods.base import Method
from bench.specs import Predictions

# bench layout -> MMAction2 graph layout (`Graph(layout=...)`, `GenSkeFeat(dataset=...)`).
# kinect20 has no MMAction2 layout: it needs a custom graph dict (num_node, inward, center) and a
# PreNormalize3D whose centre joint is not the last one (it assumes joint -1 when V != 25).
GRAPH_LAYOUTS = {"ntu25": "nturgb+d"}
SPLITS = ("train", "val", "test")
STATE_FILE = "trained.json"

# The method config (every key is applied to the baseline file by `apply_profile`):
#   config           baseline file in baselines/ (inherits MMAction2's shipped recipe)
#   model            merged into the config's `model` (backbone widths, head in_channels)
#   epochs, repeat   train loop epochs (also the cosine T_max) and RepeatDataset times
#   clip_len, val_clips, test_clips   UniformSampleFrames; test scores average the clips' softmax
#   batch_size, test_batch_size, num_workers
#   lr, momentum, weight_decay, nesterov, auto_scale_lr (linear lr scaling to the real batch)
#   val_interval, checkpoint ("best": best val top-1, else the last epoch), deterministic
_COMMON = {"repeat": 1, "val_clips": 1, "momentum": 0.9, "weight_decay": 5e-4, "nesterov": True,
           "auto_scale_lr": False, "val_interval": 1, "checkpoint": "best", "num_workers": 0,
           "deterministic": False}


class MMActionGCN(Method):
    """Base for MMAction2 GCN recognizers; a subclass names its baseline files and profiles."""

    PROFILES: dict[str, dict] = {}  # profile -> config (its "config" names the baseline file)

    @classmethod
    def default_config(cls, profile: str) -> dict:
        if profile not in cls.PROFILES:
            raise BenchError(f"{cls.__name__}: unknown profile {profile!r}; "
                             f"expected one of {sorted(cls.PROFILES)}")
        return copy.deepcopy(cls.PROFILES[profile])

    # --- fit / predict ----------------------------------------------------------------------

    def fit(self, data: DataBundle) -> None:
        from bench.methods.mmaction_setup import import_mmaction, trusted_checkpoints

        graph_layout(data.layout, type(self).__name__)
        mm = import_mmaction()
        ann_file = self._annotation_file(data)
        cfg = self.build_config(mm, data, ann_file)
        with trusted_checkpoints(self.workdir):
            runner = _run(mm, cfg, "train")
        chosen = self._chosen_checkpoint(cfg.work_dir, has_val=len(data.val) > 0)
        best = runner.message_hub.get_info("best_score")
        state = {"checkpoint": os.path.relpath(chosen, self.workdir), "ann_file": str(ann_file),
                 "selected_by": "val acc/top1" if chosen.name.startswith("best_") else "last",
                 "epoch": int(chosen.stem.rsplit("_", 1)[1]),
                 "val_top1": None if best is None else float(best)}
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
        with trusted_checkpoints(self.workdir):
            _run(mm, cfg, "test")
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
        layout = graph_layout(data.layout, type(self).__name__)
        cfg = load_config(mm, self.config_path())
        apply_profile(cfg, self.config)
        apply_data(cfg, ann_file=ann_file, num_classes=data.num_classes, layout=layout,
                   has_val=len(data.val) > 0)
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

    # --- annotations ------------------------------------------------------------------------

    def _annotation_file(self, data: DataBundle) -> Path:
        """The bundle as a PYSKL pickle in the shared cache (same bundle, same file)."""
        memo = getattr(self, "_ann_memo", None)  # (bundle, path): hashing a real bundle takes s
        if memo is None or memo[0] is not data:
            memo = self._ann_memo = (data, self.cache_dir / "mmaction-ann" /
                                     f"{bundle_key(data)}.pkl")
        path = memo[1]
        if not path.is_file():
            write_annotations(path, {name: getattr(data, name) for name in SPLITS})
        self.ann_file = path
        return path

    def _annotations_for(self, split: SkeletonSet, data: DataBundle) -> tuple[Path, str]:
        wanted = set(split.sample_ids)
        for name in SPLITS:
            if set(getattr(data, name).sample_ids) == wanted and len(wanted) == len(split):
                return self._annotation_file(data), name
        path = self.workdir / f"predict-{_set_key(split)}.pkl"
        if not path.is_file():
            write_annotations(path, {"predict": split})
        return path, "predict"

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


class STGCN(MMActionGCN):
    """ST-GCN (Yan et al. 2018), joint stream, as MMAction2 1.2.0 trains it."""

    PROFILES = {
        "smoke": {**_COMMON, "config": "stgcn_smoke.py",
                  "model": {"backbone": {"base_channels": 16, "num_stages": 4,
                                         "inflate_stages": [3], "down_stages": [3]},
                            "cls_head": {"in_channels": 32}},
                  "epochs": 10, "clip_len": 32, "test_clips": 1, "batch_size": 8,
                  "test_batch_size": 8, "lr": 0.025},
        "cpu": {**_COMMON, "config": "stgcn_cpu.py",
                "model": {"backbone": {"base_channels": 16, "num_stages": 6,
                                       "inflate_stages": [3, 5], "down_stages": [3, 5]},
                          "cls_head": {"in_channels": 64}},
                "epochs": 16, "clip_len": 48, "test_clips": 2, "batch_size": 16,
                "test_batch_size": 16, "lr": 0.05},
        # MMAction2's recipe: STGCN defaults (10 stages, 64/128/256 channels), 16 epochs x
        # RepeatDataset(5), u100, 10 test clips, lr 0.1 per 128 samples (scaled to the real batch).
        "paper": {**_COMMON, "config": "stgcn_paper.py", "model": {},
                  "epochs": 16, "repeat": 5, "clip_len": 100, "test_clips": 10,
                  "batch_size": 16, "test_batch_size": 1, "lr": 0.1, "auto_scale_lr": True,
                  "num_workers": 2},
    }


# --- config editing (pure functions on an mmengine Config) --------------------------------------

def graph_layout(layout: str, who: str) -> str:
    if layout not in GRAPH_LAYOUTS:
        raise BenchError(f"{who}: skeleton layout {layout!r} is not supported yet "
                         f"(MMAction2 graphs for: {sorted(GRAPH_LAYOUTS)})")
    return GRAPH_LAYOUTS[layout]


def load_config(mm, path: Path):
    """mmengine's Config of a baseline file (its `mmaction::` base resolved in the wheel)."""
    with _quiet_warnings():  # for `mmaction::`, mmengine reloads pkg_resources every time
        return mm.Config.fromfile(str(path))


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
    optimizer.weight_decay, optimizer.nesterov = conf["weight_decay"], conf["nesterov"]
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
    for dataset, clips in ((_inner(cfg.train_dataloader), None),
                           (cfg.val_dataloader.dataset, conf["val_clips"]),
                           (cfg.test_dataloader.dataset, conf["test_clips"])):
        for step in _steps(dataset.pipeline, "UniformSampleFrames"):
            step.clip_len = conf["clip_len"]
            if clips is not None:
                step.num_clips = clips
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, save_last=True)


def apply_data(cfg, *, ann_file: Path, num_classes: int, layout: str, has_val: bool) -> None:
    """Point the config at bench's annotation pickle, splits, classes and graph layout."""
    cfg.model.cls_head.num_classes = num_classes
    cfg.model.backbone.graph_cfg.layout = layout
    for name, dataset in (("train", _inner(cfg.train_dataloader)),
                          ("val", cfg.val_dataloader.dataset),
                          ("test", cfg.test_dataloader.dataset)):
        dataset.ann_file, dataset.split = str(ann_file), name
        for step in _steps(dataset.pipeline, "GenSkeFeat"):
            step.dataset = layout
    cfg.ann_file = str(ann_file)
    for step in _steps(cfg.test_dataloader.dataset.pipeline, "PackActionInputs"):
        # the score dump identifies samples by frame_dir (= bench sample id)
        step.meta_keys = ("img_shape", "img_key", "video_id", "timestamp", "frame_dir")
    if has_val:
        cfg.default_hooks.checkpoint.update(save_best="acc/top1", rule="greater")
    else:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint.save_best = None


def _merge(target, overrides: dict) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _inner(loader):
    dataset = loader.dataset
    return dataset.dataset if dataset.get("type") == "RepeatDataset" else dataset


def _steps(pipeline, type_name: str) -> list:
    return [step for step in pipeline if step.get("type") == type_name]


# --- annotation pickle (MMAction2 / PYSKL format) ------------------------------------------------

def annotation(sample_id: str, keypoint: np.ndarray, num_frames: int, label: int) -> dict:
    """One PYSKL record: keypoint (M, T, V, C) float32 without the time padding and without
    bodies that are absent throughout (at least one body is kept)."""
    kp = np.asarray(keypoint[:, :int(num_frames)], dtype=np.float32)
    present = np.abs(kp).reshape(kp.shape[0], -1).sum(axis=1) > 0
    present[0] = present[0] or not present.any()
    kp = np.ascontiguousarray(kp[present])
    return {"frame_dir": sample_id, "label": int(label), "keypoint": kp,
            "total_frames": int(num_frames)}


def write_annotations(path: Path, splits: dict[str, SkeletonSet]) -> None:
    """{"split": {name: [ids]}, "annotations": [...]}, each sample once; written atomically."""
    annotations, seen = [], set()
    for subset in splits.values():
        for i, sid in enumerate(subset.sample_ids):
            if sid in seen:
                continue
            seen.add(sid)
            annotations.append(annotation(sid, subset.keypoint[i], subset.num_frames[i],
                                          subset.labels[i]))
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
        digest.update(np.ascontiguousarray(array, dtype=dtype).tobytes())
    return digest.hexdigest()[:24]


# --- mmengine runner ----------------------------------------------------------------------------

def _run(mm, cfg, phase: str):
    """Build mmengine's Runner and run `phase` ("train" or "test") quietly.

    The console gets errors only: the full log goes to work_dir/<timestamp>/<timestamp>.log, and
    what mmengine print()s (checkpoint loading) to work_dir/stdout.txt. The log file is closed
    afterwards (mmengine keeps its loggers alive for the whole process).
    """

    class QuietRunner(mm.Runner):
        def build_logger(self, *args, **kwargs):
            logger = super().build_logger(*args, **kwargs)
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler:
                    handler.setLevel(logging.ERROR)
            return logger

    cfg.experiment_name = f"bench-{phase}-{uuid.uuid4().hex[:8]}"
    with _quiet_warnings():
        runner = QuietRunner.from_cfg(cfg)
        try:
            with open(Path(cfg.work_dir) / "stdout.txt", "a") as out, \
                    contextlib.redirect_stdout(out):
                getattr(runner, phase)()
        finally:
            for handler in list(runner.logger.handlers):
                if isinstance(handler, logging.FileHandler):
                    runner.logger.removeHandler(handler)
                    handler.close()
    return runner


@contextlib.contextmanager
def _quiet_warnings():
    """Deprecation notices from mmengine/mmaction/setuptools say nothing about the run."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")
        yield
