"""The VST's video branch: per-window features of the RGB frames from a frozen image encoder,
appended to the skeleton window features (config `vst.video = clip`).

The encoder is a CLIP vision tower: by default the one inside the LLaVA-1.5 directory the
`paper` profile loads (LLaVA's own visual features: the penultimate layer's patch tokens, here
mean-pooled per frame), or any local CLIP / CLIP-vision HF directory (`vst.video_encoder`).
Frames are padded to a square with the mean colour (LLaVA-1.5's preprocessing), resized to the
tower's input size and normalised with the processor's mean/std. `vst.video_frames` frames evenly
inside each window are encoded and averaged. Videos: real NTU `_rgb.avi` files (under
`vst.video_root` or the data root) or, for synthetic data, clips rendered from the skeletons,
the same clips the RGB baselines see. Features are cached per sample (encoder, window settings
and video source in the key), so the train, val and test passes and reruns encode each clip once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from bench.data.bundle import DataBundle, SkeletonSet
from bench.errors import BenchError
from bench.methods.lvlm_var.features import window_starts

log = logging.getLogger("bench")
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's image processor
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def encoder_path(cfg: dict) -> Path:
    from bench.methods.lvlm_var.lm import configured_llava_dir, local_model_dir

    path = cfg["vst.video_encoder"] or configured_llava_dir(cfg)
    found = local_model_dir(path)
    if found is None:
        raise BenchError(f"vst.video=clip needs a local HF directory (or a model id in the local "
                         f"Hugging Face cache) of LLaVA-1.5 or a CLIP vision model: set "
                         f"vst.video_encoder, lvlm.model_path or BENCH_LLAVA_PATH "
                         f"(got {path or 'nothing'!r})")
    return found.resolve()


def encoder_identity(cfg: dict) -> str:
    """Names the encoder's weights in cache keys: its path and its config file's content."""
    path = encoder_path(cfg)
    return f"{path}:{hashlib.sha256((path / 'config.json').read_bytes()).hexdigest()[:16]}"


class ClipFrameEncoder:
    """Frozen CLIP vision tower: (K, H, W, 3) uint8 frames -> (K, D) float32 features."""

    def __init__(self, path: Path):
        import torch

        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        self.model, self.layer = load_vision_tower(path)
        self.model.to(self.device, self.dtype).eval()
        self.size = int(self.model.config.image_size)
        self.dim = int(self.model.config.hidden_size)

    def __call__(self, frames: np.ndarray):
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
        mean = torch.tensor(CLIP_MEAN)[None, :, None, None]
        std = torch.tensor(CLIP_STD)[None, :, None, None]
        h, w = x.shape[2:]
        side = max(h, w)  # pad to a square with the mean colour, as LLaVA-1.5 does
        square = mean.expand(len(x), 3, side, side).clone()
        top, left = (side - h) // 2, (side - w) // 2
        square[:, :, top:top + h, left:left + w] = x
        x = F.interpolate(square, size=(self.size, self.size), mode="bicubic", antialias=True,
                          align_corners=False).clamp(0, 1)
        x = ((x - mean) / std).to(self.device, self.dtype)
        with torch.no_grad():
            out = self.model(pixel_values=x, output_hidden_states=True)
        patches = out.hidden_states[self.layer][:, 1:]  # drop CLS, as LLaVA's "default" strategy
        return patches.float().mean(1).cpu().numpy()


def load_vision_tower(path: Path):
    """(CLIPVisionModel, feature layer) from a LLaVA directory (its tower's weights only, read
    lazily from the safetensors files) or from a CLIP / CLIP-vision directory."""
    from transformers import CLIPVisionConfig, CLIPVisionModel

    config = json.loads((path / "config.json").read_text())
    kind = config.get("model_type")
    if kind in ("clip", "clip_vision_model"):
        return CLIPVisionModel.from_pretrained(path), -2
    if kind != "llava":
        raise BenchError(f"{path / 'config.json'}: model_type {kind!r}; vst.video_encoder must be "
                         f"a llava, clip or clip_vision_model directory")
    model = CLIPVisionModel(CLIPVisionConfig.from_dict(config["vision_config"]))
    model.load_state_dict(_tower_weights(path, model.state_dict().keys()))
    layer = config.get("vision_feature_layer", -2)
    return model, layer if isinstance(layer, int) else layer[-1]


def _tower_weights(path: Path, wanted) -> dict:
    from safetensors import safe_open

    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise BenchError(f"{path}: no .safetensors files for the LLaVA vision tower")
    # Checkpoints and transformers versions differ around the tower's own names
    # ("model.vision_tower.", "vision_tower.vision_model.", ...): match on what follows.
    def core(name: str) -> str:
        name = name.split("vision_tower.", 1)[-1]
        return name[len("vision_model."):] if name.startswith("vision_model.") else name

    wanted = {core(k): k for k in wanted}
    found = {}
    for file in files:
        with safe_open(str(file), framework="pt") as f:
            for key in f.keys():
                if "vision_tower." in key and core(key) in wanted:
                    found[wanted[core(key)]] = f.get_tensor(key)
    missing = set(wanted.values()) - found.keys()
    if missing:
        raise BenchError(f"{path}: the LLaVA vision tower lacks {len(missing)} weights "
                         f"(e.g. {sorted(missing)[0]})")
    return found


def frame_indices(num_frames: int, video_frames: int, window: int, stride: float,
                  per_window: int) -> np.ndarray:
    """(windows, per_window) video frame indices: evenly inside each skeleton window."""
    starts = window_starts(num_frames, window, stride)
    offsets = (np.arange(per_window) + 0.5) * window / per_window
    idx = np.floor(starts[:, None] + offsets[None]).astype(np.int64)
    return np.clip(idx, 0, max(min(num_frames, video_frames) - 1, 0))


class VideoFeatures:
    """Per-window video features of a method's splits, cached per sample on disk."""

    def __init__(self, cfg: dict, cache_dir: Path):
        self.cfg = cfg
        self.cache_dir = Path(cache_dir)
        self._encoder = None

    def for_split(self, split: SkeletonSet, data: DataBundle, stride: float) -> np.ndarray:
        """(windows of the split, D): the rows follow the skeleton windows clip by clip."""
        from bench.data.ntu.rgb import probe_video, read_frames
        from bench.data.videos import sample_videos, short_key

        cfg = self.cfg
        window, per = int(cfg["vst.window"]), int(cfg["vst.video_frames"])
        videos = sample_videos(data, [split], cache_dir=self.cache_dir,
                               content_key=split_key(split),
                               video_root=cfg["vst.video_root"] or None,
                               render_size=int(cfg["vst.render_size"]), who="lvlm_var vst.video")
        folder = self.cache_dir / "video-features" / short_key(
            f"{encoder_identity(cfg)}|{window}|{stride}|{per}")
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for i, sid in enumerate(split.sample_ids):
            stat = os.stat(videos[sid])  # the video itself (rendered ones: a content-keyed path)
            file = folder / (f"{sid}-" + short_key(f"{Path(videos[sid]).resolve()}|"
                                                   f"{stat.st_size}|{stat.st_mtime_ns}") + ".npy")
            if file.is_file():
                out.append(np.load(file))
                continue
            info = probe_video(videos[sid])
            idx = frame_indices(int(split.num_frames[i]), info.num_frames, window, stride, per)
            scale = self.encoder.size / max(info.width, info.height)  # decode small, not full HD
            size = (max(8, round(info.width * scale)), max(8, round(info.height * scale)))
            frames = read_frames(videos[sid], idx.ravel(), size=size)
            feats = self.encoder(frames).reshape(len(idx), per, -1).mean(1).astype(np.float32)
            tmp = folder / f".{sid}.{os.getpid()}.npy"
            np.save(tmp, feats)
            os.replace(tmp, file)
            out.append(feats)
            if (i + 1) % 200 == 0:
                log.info("video features: %d/%d clips", i + 1, len(split))
        return np.concatenate(out) if out else np.zeros((0, self.encoder.dim), np.float32)

    @property
    def encoder(self) -> ClipFrameEncoder:
        if self._encoder is None:
            self._encoder = ClipFrameEncoder(encoder_path(self.cfg))
        return self._encoder


def split_key(split: SkeletonSet) -> str:
    """The split's content (ids and skeletons): keys the clips rendered from it."""
    h = hashlib.sha256("\n".join(split.sample_ids).encode())
    h.update(np.ascontiguousarray(split.num_frames, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(split.keypoint, dtype=np.float32).tobytes())
    return h.hexdigest()[:24]
