"""MMAction2 RGB recognizers (TSN, SlowOnly) trained with mmengine's Runner on bench's manifests.

The run machinery (fit/predict through the Runner, checkpoint choice, the score dump) is the
skeleton adapter's (`MMActionGCN`); what differs is the data: a JSON annotation file listing each
sample's video, and two pipeline steps. The baseline files keep MMAction2's own video pipeline
(DecordInit, SampleFrames, DecordDecode, ...); bench swaps the two decord steps for
`BenchVideoInit` / `BenchVideoDecode`, which decode with `bench.data.ntu.rgb` (decord too, or
PyAV where decord is not installed) so a bad video is a one-line error naming the file.

Where the videos come from:
- real NTU: the `SsssCcccPpppRrrrAaaa_rgb.avi` files under the method config's `video_root`,
  or else under the data root (searched recursively);
- synthetic NTU: clips rendered from each sample's skeleton as its camera sees it
  (`bench.data.synthetic.render`), cached by the bundle's content and the render size.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from bench.data.bundle import DataBundle, SkeletonSet
from bench.data.videos import sample_videos, short_key, video_source_key
from bench.errors import BenchError
from bench.methods.mmaction_gcn import (
    RECIPE_KEYS, SPLITS, MMActionGCN, inner_dataset, bundle_key, point_at_annotations,
)

DATASET_TYPE = "BenchVideoDataset"
VIDEO_MODULES = "bench.methods.mmaction_video"  # registers the dataset and the decoding steps
DECODE_STEPS = {"DecordInit": "BenchVideoInit", "DecordDecode": "BenchVideoDecode"}
TEST_CROPS = ("CenterCrop", "ThreeCrop", "TenCrop")

# The method config is the `bench` block of the profile's baseline file (as for the skeleton
# adapter, whose keys mean the same here: model, epochs, repeat, lr, ..., checkpoint), applied to
# the file by `apply_profile` and `apply_rgb_profile`, plus:
#   clip_len, frame_interval, num_clips   SampleFrames of training; val_clips, test_clips
#   short_side     Resize(-1, short_side) after decoding; ThreeCrop crops the whole short side
#   crop_size      the network input (MultiScaleCrop/CenterCrop/TenCrop, final square Resize)
#   test_crop      the test pipeline's crop: CenterCrop, ThreeCrop or TenCrop (x3, x10 views)
#   render_size    synthetic data: side of the rendered square clips
#   video_root     real data: folder of the _rgb.avi files (None: the data root)
#   nproc          train with torchrun over nproc processes (as the skeleton adapter)
RGB_KEYS = RECIPE_KEYS | {"frame_interval", "num_clips", "short_side", "crop_size", "test_crop",
                          "render_size", "video_root"}


REGISTER = {"tsn": {"class": "TSN", "tags": ["rgb", "mmaction"]},
            "slowonly": {"class": "SlowOnly", "tags": ["rgb", "mmaction"]}}


class MMActionRGB(MMActionGCN):
    """Base for MMAction2 RGB recognizers; a subclass names its baseline files (RECIPE)."""

    KEYS = RGB_KEYS
    OPTIONAL_KEYS = frozenset()

    def check_data(self, data: DataBundle) -> None:
        if data.layout != "ntu25":  # videos are NTU's, or rendered from NTU-25 skeletons
            raise BenchError(f"{type(self).__name__}: RGB methods need NTU RGB+D data (layout "
                             f"ntu25), got layout {data.layout!r}")

    def apply_data(self, cfg, data: DataBundle, ann_file: Path) -> None:
        """After the shared profile fields (`apply_profile`): sampling, sizes, schedule, data."""
        register_video_modules()
        apply_rgb_profile(cfg, self.config)
        apply_video_data(cfg, ann_file=ann_file, num_classes=data.num_classes,
                         has_val=len(data.val) > 0)

    # --- annotations: one JSON file listing (sample id, video, label) per split -------------

    def _annotation_file(self, data: DataBundle) -> Path:
        memo = getattr(self, "_ann_memo", None)  # (bundle, path): hashing a real bundle takes s
        if memo is None or memo[0] is not data:
            key = short_key(f"{bundle_key(data)}|{self._video_key(data)}")
            memo = self._ann_memo = (data, self.cache_dir / "mmaction-rgb-ann" / f"{key}.json")
        path = memo[1]
        if not path.is_file():
            splits = {name: getattr(data, name) for name in SPLITS}
            videos = self._videos(data, list(splits.values()), bundle_key(data))
            write_video_annotations(path, splits, videos)
        self.ann_file = path
        return path

    ann_suffix = ".json"

    def keypoint_source(self, data: DataBundle) -> dict | None:
        return None  # the pipelines decode videos; no skeleton rows to read

    def _write_split_annotations(self, path: Path, splits: dict, data: DataBundle,
                                 key: str) -> None:
        write_video_annotations(path, splits, self._videos(data, list(splits.values()), key))

    def _video_key(self, data: DataBundle) -> str:
        return video_source_key(data, self.config["video_root"], int(self.config["render_size"]))

    def _videos(self, data: DataBundle, sets: list[SkeletonSet], key: str) -> dict[str, str]:
        """Sample id -> video path for every sample of `sets`."""
        return sample_videos(data, sets, cache_dir=self.cache_dir, content_key=key,
                             video_root=self.config["video_root"],
                             render_size=int(self.config["render_size"]), who=type(self).__name__)


class TSN(MMActionRGB):
    """TSN (Wang et al. 2016), RGB, as MMAction2 1.2.0 trains it (2D ResNet, segment consensus)."""

    RECIPE = "tsn"  # baselines/tsn_<profile>.py


class SlowOnly(MMActionRGB):
    """SlowOnly (Feichtenhofer et al. 2019, the slow pathway of SlowFast), RGB, 3D ResNet."""

    RECIPE = "slowonly"  # baselines/slowonly_<profile>.py


# --- config editing (pure functions on an mmengine Config) --------------------------------------

def apply_rgb_profile(cfg, conf: dict) -> None:
    """The RGB fields of the profile, on top of `apply_profile` (model, epochs, optimizer,
    loaders, repeat); on the profile's own baseline file the two change nothing."""
    cfg.param_scheduler = rescale_schedule(cfg.param_scheduler, conf["epochs"])
    for dataset, clips, test in ((inner_dataset(cfg.train_dataloader), conf["num_clips"], False),
                                 (cfg.val_dataloader.dataset, conf["val_clips"], False),
                                 (cfg.test_dataloader.dataset, conf["test_clips"], True)):
        for i, step in enumerate(dataset.pipeline):
            kind = step.get("type")
            if kind == "SampleFrames":
                step.update(clip_len=conf["clip_len"], frame_interval=conf["frame_interval"],
                            num_clips=clips)
            elif kind == "Resize" and tuple(step.scale)[0] == -1:
                step.scale = (-1, conf["short_side"])
            elif kind == "Resize":  # the final square resize of a random crop
                step.scale = (conf["crop_size"], conf["crop_size"])
            elif kind == "MultiScaleCrop":
                step.input_size = conf["crop_size"]
            elif kind in TEST_CROPS:
                kind = conf["test_crop"] if test else kind
                dataset.pipeline[i] = dict(step, type=kind, crop_size=_crop(conf, kind))


def _crop(conf: dict, kind: str) -> int:
    return conf["short_side"] if kind == "ThreeCrop" else conf["crop_size"]


def rescale_schedule(schedulers, epochs: int) -> list:
    """Epoch-based schedulers stretched from the recipe's length (the largest `end`) to
    `epochs`: warm-up ends, milestones and the cosine length scale with it."""
    schedulers = copy.deepcopy(list(schedulers))
    recipe = max((s.get("end", 0) for s in schedulers if s.get("by_epoch", True)), default=0)
    ratio = epochs / recipe if recipe else 1.0
    for scheduler in schedulers:
        if not scheduler.get("by_epoch", True):
            continue
        if "begin" in scheduler:
            scheduler["begin"] = min(round(scheduler["begin"] * ratio), max(epochs - 1, 0))
        if "end" in scheduler:  # mmengine wants end > begin, however short the run
            scheduler["end"] = max(round(scheduler["end"] * ratio), scheduler.get("begin", 0) + 1)
        if "milestones" in scheduler:
            scheduler["milestones"] = [max(1, round(m * ratio)) for m in scheduler["milestones"]]
        if scheduler.get("type") == "CosineAnnealingLR" and "end" in scheduler:
            # apply_profile set T_max = epochs; after a warm-up the cosine is shorter
            scheduler["T_max"] = max(1, scheduler["end"] - scheduler.get("begin", 0))
    return schedulers


def apply_video_data(cfg, *, ann_file: Path, num_classes: int, has_val: bool) -> None:
    """Point the config at bench's annotation file, splits and classes; decode with bench."""
    cfg.model.cls_head.num_classes = num_classes
    for dataset in (inner_dataset(cfg.train_dataloader), cfg.val_dataloader.dataset,
                    cfg.test_dataloader.dataset):
        dataset.type, dataset.data_prefix = DATASET_TYPE, dict(video="")
        dataset.pipeline = [dict(type=DECODE_STEPS[step["type"]])
                            if step.get("type") in DECODE_STEPS else step
                            for step in dataset.pipeline]
    point_at_annotations(cfg, ann_file, has_val)  # ann_file, splits, frame_dir, val or not
    cfg.custom_imports = dict(imports=[VIDEO_MODULES], allow_failed_imports=False)


def write_video_annotations(path: Path, splits: dict[str, SkeletonSet],
                            videos: dict[str, str]) -> None:
    """{"split": {name: [ids]}, "annotations": [{frame_dir, filename, label}]}, atomically."""
    annotations, seen = [], set()
    for subset in splits.values():
        for sid, label in zip(subset.sample_ids, subset.labels):
            if sid not in seen:
                seen.add(sid)
                annotations.append({"frame_dir": sid, "filename": videos[sid],
                                    "label": int(label)})
    payload = {"split": {name: list(s.sample_ids) for name, s in splits.items()},
               "annotations": annotations}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)


# --- MMAction2 modules ----------------------------------------------------------------------------

def register_video_modules() -> None:
    """Register BenchVideoDataset, BenchVideoInit and BenchVideoDecode into mmaction (once).
    Configs name the module in `custom_imports`, so torchrun workers register them too."""
    import importlib
    importlib.import_module(VIDEO_MODULES)
