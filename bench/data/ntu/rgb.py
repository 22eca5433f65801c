"""NTU RGB+D videos (`SsssCcccPpppRrrrAaaa_rgb.avi`): find, probe, sample frame indices, decode.

Decoding goes through decord where it is installed (what MMAction2's DecordInit/DecordDecode use,
so the RGB methods see the same pixels as MMAction2's own pipeline would; its wheels are x86-64
only), else through PyAV (FFmpeg's decoders as well, read in order: on the NTU sample the same
pixels at full size, within a grey level resized); `video_decoder()` says which. Frame sampling
reproduces MMAction2's `SampleFrames` (clip_len x frame_interval x num_clips; in test mode
deterministic) and TSN's segment sampling; training mode draws from the generator it is given,
never a global one.
A missing, empty, truncated or undecodable video is a one-line DataError naming the file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.data.ntu.names import NAME_PATTERN, index_by_sample
from bench.errors import DataError

RGB_SUFFIX = "_rgb.avi"


@dataclass(frozen=True)
class VideoInfo:
    path: str
    num_frames: int
    fps: float
    width: int
    height: int


def find_rgb_videos(root: str | os.PathLike) -> dict[str, Path]:
    """Sample name -> `_rgb.avi` path under root (recursive, as the archives unpack nested)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"NTU RGB video directory {root} does not exist")
    return index_by_sample(root, RGB_SUFFIX, "video")


def video_decoder() -> str:
    """"decord" where it imports (the `video` and, on x86-64, `test` extras), else "pyav" (a
    required dependency, so ARM and macOS machines, which decord has no wheels for, decode too)."""
    try:
        import decord  # noqa: F401
    except ImportError:
        return "pyav"
    return "decord"


def _open(path: str | os.PathLike, size: tuple[int, int] | None = None):
    """The video through decord or PyAV (`video_decoder`), or a DataError naming the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"video {path} not found (expected {NAME_PATTERN}{RGB_SUFFIX})")
    if os.path.getsize(path) == 0:
        raise DataError(f"video {path} is empty (0 bytes)")
    opener = _DecordVideo if video_decoder() == "decord" else _PyAVVideo
    try:
        video = opener(path, size)
    except DataError:
        raise
    except Exception as err:  # decord's DECORDError / RuntimeError, PyAV's FFmpegError
        raise DataError(f"video {path} cannot be decoded: {_reason(err)}") from None
    if video.num_frames == 0:
        raise DataError(f"video {path} holds no frames")
    return video


def _reason(err: Exception) -> str:
    """The first line of a decoder's error, without PyAV's errno and repeated file name."""
    text = getattr(err, "strerror", None) or str(err)
    return text.splitlines()[0] if text else type(err).__name__


class _DecordVideo:
    """decord's VideoReader, resizing in the decoder when `size` = (width, height) is given."""

    def __init__(self, path: str, size: tuple[int, int] | None):
        import decord

        width, height = size if size else (-1, -1)
        self._reader = decord.VideoReader(path, width=width, height=height, num_threads=1)
        self.num_frames = len(self._reader)
        self.fps = float(self._reader.get_avg_fps())

    def get_batch(self, indices: np.ndarray) -> np.ndarray:
        return self._reader.get_batch(indices.tolist()).asnumpy()


class _PyAVVideo:
    """PyAV: the frame count from the packets (demuxed, not decoded); frames decoded in order up
    to the last one asked for, on one thread, converted to RGB (and resized: bilinear, as
    decord's scaler) by FFmpeg's swscale."""

    def __init__(self, path: str, size: tuple[int, int] | None):
        import av

        self._path, self._size = path, size
        with av.open(path) as container:
            if not container.streams.video:
                raise DataError(f"video {path} holds no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            self.fps = float(rate) if rate else 0.0
            self.num_frames = 0
            try:
                for packet in container.demux(stream):
                    self.num_frames += packet.size > 0  # the last, empty packet flushes
            except av.error.FFmpegError:  # a damaged tail: count what could be read
                pass

    def get_batch(self, indices: np.ndarray) -> np.ndarray:
        import av

        wanted, found, decoded = set(indices.tolist()), {}, 0
        width, height = self._size if self._size else (None, None)
        with av.open(self._path) as container:
            stream = container.streams.video[0]
            stream.thread_type, stream.codec_context.thread_count = "NONE", 1
            for frame in container.decode(stream):
                if decoded in wanted:
                    found[decoded] = frame.to_ndarray(format="rgb24", width=width,
                                                      height=height, threads=1)
                decoded += 1
                if len(found) == len(wanted):
                    break
        if len(found) < len(wanted):
            raise RuntimeError(f"only {decoded} of its {self.num_frames} frames decode")
        return np.stack([found[i] for i in indices.tolist()])


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Frame count, fps and size, without decoding. A truncated AVI (its header promises more
    frames than the file's index holds) is refused rather than silently read short."""
    reader = _open(path)
    count = reader.num_frames
    header = _header(path)
    if header is None:  # no cv2: decode one frame for the size
        height, width = reader.get_batch(np.zeros(1, np.int64))[0].shape[:2]
    else:
        promised, width, height = header
        if promised > count:
            raise DataError(f"video {path} is truncated: its header lists {promised} frames, "
                            f"only {count} can be read")
    return VideoInfo(os.fspath(path), count, reader.fps, int(width), int(height))


def _header(path) -> tuple[int, int, int] | None:
    """(frame count, width, height) as the container header declares them (cv2 reads them
    without decoding), or None where cv2 is missing or cannot tell."""
    try:
        import cv2
    except ImportError:
        return None
    capture = cv2.VideoCapture(os.fspath(path))
    try:
        if not capture.isOpened():
            return None
        values = tuple(int(capture.get(prop)) for prop in (
            cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    return values if min(values) > 0 else None


def read_frames(path: str | os.PathLike, indices, size: tuple[int, int] | None = None
                ) -> np.ndarray:
    """Frames `indices` (0-based, any order, repeats allowed) as (K, H, W, 3) uint8 RGB.
    `size` = (width, height) makes the decoder resize, much cheaper than decoding full HD."""
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    reader = _open(path, size)
    if not indices.size:
        raise DataError(f"video {path}: no frame indices to read")
    count = reader.num_frames
    if indices.min() < 0 or indices.max() >= count:
        raise DataError(f"video {path} has {count} frames; asked for frame "
                        f"{int(indices.max() if indices.max() >= count else indices.min())}")
    try:
        return reader.get_batch(indices)
    except Exception as err:  # decord fails on some frame sizes (FFV1 at 48x48): try cv2
        frames = _read_with_cv2(path, indices, size)
        if frames is None:
            raise DataError(f"video {path} cannot be decoded at frames {indices[:4].tolist()}: "
                            f"{_reason(err)}") from None
        return frames


def _read_with_cv2(path, indices: np.ndarray, size) -> np.ndarray | None:
    """The frames by a sequential cv2 read up to the last one asked for; None if that fails."""
    try:
        import cv2
    except ImportError:
        return None
    capture = cv2.VideoCapture(os.fspath(path))
    wanted, found = set(indices.tolist()), {}
    try:
        for i in range(int(indices.max()) + 1):
            ok, frame = capture.read()
            if not ok:
                return None
            if i in wanted:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                found[i] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if size else frame
    finally:
        capture.release()
    return np.stack([found[i] for i in indices.tolist()])


# --- frame sampling ------------------------------------------------------------------------

def uniform_indices(num_frames: int, num_segments: int, *, test_mode: bool = True,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """TSN sampling: one frame from each of `num_segments` equal segments; the segment centre in
    test mode (MMAction2's SampleFrames with clip_len=1), a random frame of it in training."""
    _check_sampling(num_frames, 1, 1, num_segments)
    if test_mode:
        return clip_indices(num_frames, 1, 1, num_segments, test_mode=True)
    rng = rng if rng is not None else np.random.default_rng()
    bounds = np.floor(np.linspace(0, num_frames, num_segments + 1)).astype(np.int64)
    starts = bounds[:-1]
    ends = np.maximum(bounds[1:], starts + 1)  # fewer frames than segments: segments share frames
    return np.minimum(rng.integers(starts, ends), num_frames - 1).astype(np.int64)


def clip_indices(num_frames: int, clip_len: int, frame_interval: int = 1, num_clips: int = 1, *,
                 test_mode: bool = True, rng: np.random.Generator | None = None) -> np.ndarray:
    """MMAction2 SampleFrames (out_of_bound_opt='loop'): num_clips x clip_len frame indices,
    clip after clip, `frame_interval` apart; indices past the end wrap around."""
    _check_sampling(num_frames, clip_len, frame_interval, num_clips)
    if test_mode:  # a test clip may end on its last frame; a training clip keeps the stride
        offsets = _test_offsets(num_frames, clip_len, (clip_len - 1) * frame_interval + 1,
                                num_clips)
    else:
        offsets = _train_offsets(num_frames, clip_len * frame_interval, num_clips,
                                 rng if rng is not None else np.random.default_rng())
    inds = offsets[:, None] + np.arange(clip_len)[None, :] * frame_interval
    return np.mod(inds, num_frames).astype(np.int64).reshape(-1)


def _test_offsets(num_frames, clip_len, span, num_clips) -> np.ndarray:
    if clip_len == 1:  # 2D recognizers: the centre of each segment
        interval = num_frames / float(num_clips)
        return np.arange(num_clips) * interval + interval / 2.0
    max_offset = max(num_frames - span, 0)
    if num_clips > 1:
        return np.round(np.arange(num_clips) * (max_offset / float(num_clips - 1)))
    return np.array([max_offset // 2])


def _train_offsets(num_frames, span, num_clips, rng) -> np.ndarray:
    interval = (num_frames - span + 1) // num_clips
    if interval > 0:
        return np.arange(num_clips) * interval + rng.integers(interval, size=num_clips)
    if num_frames > max(num_clips, span):
        return np.sort(rng.integers(num_frames - span + 1, size=num_clips))
    if interval == 0:
        return np.around(np.arange(num_clips) * (num_frames - span + 1.0) / num_clips)
    return np.zeros(num_clips, dtype=np.int64)


def _check_sampling(num_frames, clip_len, frame_interval, num_clips) -> None:
    for name, value in (("num_frames", num_frames), ("clip_len", clip_len),
                        ("frame_interval", frame_interval), ("num_clips", num_clips)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"frame sampling: {name} must be a positive integer, got {value!r}")
