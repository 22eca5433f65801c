"""bench's video steps for MMAction2, registered when this module is imported.

`BenchVideoDataset` reads one split of bench's JSON annotation file (frame_dir = sample id,
filename, label); `BenchVideoInit` and `BenchVideoDecode` do the jobs of MMAction2's DecordInit
and DecordDecode through `bench.data.ntu.rgb` (decord as well, or PyAV where decord is not
installed), so a missing, truncated or undecodable video stops training with one line naming the
file. RGB configs list this module in `custom_imports`, so any process that loads such a config
(torchrun workers) registers them.
"""
from __future__ import annotations

import json
from pathlib import Path

from bench.data.ntu.rgb import probe_video, read_frames
from bench.methods.mmaction_rgb import DATASET_TYPE
from bench.methods.mmaction_setup import import_mmaction

import_mmaction()  # mmaction's own modules first (and the stand-in for its missing DRN)

from mmaction.datasets.base import BaseActionDataset  # noqa: E402
from mmaction.registry import DATASETS, TRANSFORMS  # noqa: E402
from mmcv.transforms import BaseTransform  # noqa: E402


class BenchVideoDataset(BaseActionDataset):
    """The samples of one split of bench's JSON annotation file, in the split's order."""

    def __init__(self, ann_file, pipeline, split: str, **kwargs):
        self.split = split
        super().__init__(ann_file, pipeline, **kwargs)

    def load_data_list(self) -> list[dict]:
        payload = json.loads(Path(self.ann_file).read_text())
        by_id = {a["frame_dir"]: a for a in payload["annotations"]}
        return [dict(by_id[sid]) for sid in payload["split"][self.split]]


class BenchVideoInit(BaseTransform):
    """DecordInit's job: total_frames and avg_fps of results['filename']."""

    def transform(self, results: dict) -> dict:
        info = probe_video(results["filename"])
        results["total_frames"], results["avg_fps"] = info.num_frames, info.fps
        return results


class BenchVideoDecode(BaseTransform):
    """DecordDecode's job: the frames at results['frame_inds'] as a list of RGB images."""

    def transform(self, results: dict) -> dict:
        imgs = list(read_frames(results["filename"], results["frame_inds"]))
        results["imgs"] = imgs
        results["original_shape"] = results["img_shape"] = imgs[0].shape[:2]
        return results


if DATASETS.get(DATASET_TYPE) is None:
    DATASETS.register_module(name=DATASET_TYPE, module=BenchVideoDataset)
    TRANSFORMS.register_module(name="BenchVideoInit", module=BenchVideoInit)
    TRANSFORMS.register_module(name="BenchVideoDecode", module=BenchVideoDecode)
