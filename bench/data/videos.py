"""Where each sample's RGB video is: real NTU `_rgb.avi` files found under a folder, or, for
synthetic data, clips rendered from the skeletons as each sample's camera sees them (cached by the
data's content, the render size and the renderer's version). Used by the RGB baselines and by
LVLM-VAR's video branch, so both see the same clips."""
from __future__ import annotations

import hashlib
from pathlib import Path

from bench.data.bundle import DataBundle, SkeletonSet
from bench.errors import BenchError


def video_source_key(data: DataBundle, video_root, render_size: int) -> str:
    """What the video paths depend on besides the samples."""
    root = video_root or (None if data.synthetic else data.root)
    if root:
        return f"root:{Path(root).expanduser().resolve()}"
    from bench.data.synthetic.render import RENDER_VERSION
    return f"render:{render_size}:v{RENDER_VERSION}"


def sample_videos(data: DataBundle, sets: list[SkeletonSet], *, cache_dir: Path, content_key: str,
                  video_root=None, render_size: int = 112, who: str = "videos") -> dict[str, str]:
    """Sample id -> video path for every sample of `sets`. `content_key` names the samples'
    content (it keys the rendered folder); `who` starts the error messages."""
    ids = [sid for subset in sets for sid in subset.sample_ids]
    if data.synthetic and not video_root:
        return _rendered(data, sets, cache_dir, content_key, render_size)
    from bench.data.ntu.rgb import RGB_SUFFIX, find_rgb_videos

    root = video_root or data.root
    if root is None:
        raise BenchError(f"{who}: no folder of NTU _rgb.avi videos: pass --set video_root=DIR "
                         f"(the bundle names no data root)")
    found = find_rgb_videos(Path(root).expanduser())
    missing = [sid for sid in ids if sid not in found]
    if missing:
        raise BenchError(f"{who}: {len(missing)} of {len(ids)} samples have no video under "
                         f"{root} (e.g. {missing[0]}{RGB_SUFFIX}); pass --set video_root=DIR, "
                         f"the extracted nturgb+d_rgb folder")
    return {sid: str(found[sid]) for sid in ids}


def _rendered(data: DataBundle, sets: list[SkeletonSet], cache_dir: Path, content_key: str,
              size: int) -> dict[str, str]:
    from bench.data.synthetic.render import RENDER_VERSION, render_videos

    folder = Path(cache_dir) / "rgb-render" / short_key(
        f"{content_key}|{size}|{RENDER_VERSION}|{data.fps}")
    samples = ((sid, subset.keypoint[i], int(subset.num_frames[i]))
               for subset in sets for i, sid in enumerate(subset.sample_ids))
    render_videos(_unique(samples), folder, size=size, fps=data.fps)
    return {sid: str(folder / f"{sid}_rgb.avi") for subset in sets for sid in subset.sample_ids}


def _unique(samples):
    seen = set()
    for sample in samples:
        if sample[0] not in seen:
            seen.add(sample[0])
            yield sample


def short_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]
