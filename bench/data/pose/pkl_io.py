"""The MMAction2/PYSKL skeleton annotation pickle: a data-only reader, validation, an atomic writer.

The format (what `ntu60_3d.pkl` and MMAction2's PoseDataset use):

    {"split": {"xsub_train": [frame_dir, ...], "xsub_val": [...], ...},
     "annotations": [{"frame_dir": str, "label": int, "keypoint": (M, T, V, C) array,
                      "total_frames": T, ...}, ...]}

2D files add "keypoint_score" (M, T, V) and have C == 2; pose-estimator files also carry
"img_shape" and "original_shape" (h, w). Such other fields, and other top-level keys, must be
plain data (annotation_extras.py): they are kept through preparation and export. bench may add an
optional top-level "class_names" list (MMAction2 ignores unknown top-level keys).

A pickle can run arbitrary code while it loads, so the reader admits only the globals that plain
containers and numpy arrays need; anything else is refused before it is called. Nor may a few
bytes of pickle allocate much memory: no constructor is called with a size (`bytes(2**31)`, an
array shape), object arrays are refused, and labels are bounded (MAX_CLASSES without class_names).
"""
from __future__ import annotations

import _compat_pickle
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np

from bench.data.bundle import trim_clip
from bench.data.pose.annotation_extras import check_keepable, extra_fields
from bench.data.layouts import Layout
from bench.errors import DataError

REQUIRED_FIELDS = ("frame_dir", "label", "keypoint", "total_frames")
# Labels name classes: without class_names their count is max(label) + 1, and bench lists that
# many names; no action dataset comes near this.
MAX_CLASSES = 100_000
FRAME_SIZE_FIELDS = ("img_shape", "original_shape")  # optional; the frame 2D keypoints are in


# ---- data-only unpickling ----------------------------------------------------------------------

class _RefusedGlobal(pickle.UnpicklingError):
    def __init__(self, qualified: str):
        super().__init__(qualified)
        self.qualified = qualified


class _RefusedCall(pickle.UnpicklingError):
    """An admitted global called with arguments that would allocate what the file does not hold
    (or that numpy cannot unpickle safely)."""


class _NdarrayName:
    """What `numpy.ndarray` unpickles to: numpy's pickles name it only as _reconstruct's first
    argument; called on its own, `ndarray(shape)` would allocate by argument."""

    def __new__(cls, *args, **kwargs):
        raise _RefusedCall("numpy.ndarray(...) (an array made from a shape, not from data)")


def _numpy_globals() -> dict[str, object]:
    """The callables numpy's own pickles name, taken from what this numpy emits, under both the
    numpy 1.x (`numpy.core`) and numpy 2.x (`numpy._core`) module names; those that take a shape
    or a dtype are guarded (no size from the file, no object arrays)."""
    array, scalar = np.arange(2.0), np.float64(1.0)
    reconstruct = array.__reduce__()[0]
    frombuffer = array.__reduce_ex__(5)[0]  # protocol 5: numeric._frombuffer

    def guarded_reconstruct(subtype, shape, dtype_code):
        # numpy pickles an empty array here and fills it from the data bytes (BUILD)
        if subtype is not _NdarrayName or int(np.prod(shape, dtype=object)) != 0:
            raise _RefusedCall(f"_reconstruct with shape {shape!r} (numpy pickles an empty "
                               f"array here)")
        return reconstruct(np.ndarray, shape, dtype_code)

    allowed = {}
    for core in ("numpy.core", "numpy._core"):
        allowed[f"{core}.multiarray._reconstruct"] = guarded_reconstruct
        allowed[f"{core}.multiarray.scalar"] = scalar.__reduce__()[0]
        allowed[f"{core}.numeric._frombuffer"] = frombuffer
    allowed["numpy.ndarray"] = _NdarrayName
    allowed["numpy.dtype"] = _plain_dtype
    return allowed


def _plain_dtype(*args, **kwargs) -> np.dtype:
    """np.dtype without Python objects: an object array's state is a list numpy trusts to match
    the shape (a short one crashes numpy 1.26; a long shape allocates 8 bytes per element)."""
    dtype = np.dtype(*args, **kwargs)
    if dtype.hasobject:
        raise _RefusedCall(f"numpy.dtype({args[0]!r}) (object arrays are not plain data)")
    return dtype


def _no_size_argument(kind: type):
    """`kind` as a function that refuses an integer first argument: bytes(n) and bytearray(n)
    allocate n bytes from a few bytes of pickle."""
    def make(*args, **kwargs):
        if args and isinstance(args[0], Integral):
            raise _RefusedCall(f"{kind.__name__}({args[0]!r}) (allocates by size)")
        return kind(*args, **kwargs)

    return make


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """Protocol 2 stores bytes as _codecs.encode(str, 'latin1'); no other codec is needed."""
    import codecs

    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _RefusedCall(f"_codecs.encode(..., {encoding!r}) (only latin1 text is bytes)")
    return codecs.encode(text, encoding, errors)


def _builtin_globals() -> dict[str, object]:
    import collections

    # no range: list(range(10**10)) would allocate by argument
    plain = (dict, list, tuple, set, frozenset, str, int, float, complex, bool, slice)
    allowed = {f"builtins.{t.__name__}": t for t in plain}
    allowed["builtins.bytes"] = _no_size_argument(bytes)
    allowed["builtins.bytearray"] = _no_size_argument(bytearray)
    allowed["collections.OrderedDict"] = collections.OrderedDict
    allowed["_codecs.encode"] = _latin1_encode
    return allowed


class _DataOnlyUnpickler(pickle.Unpickler):
    allowed: dict[str, object] = {}

    def find_class(self, module: str, name: str):
        # protocols 0-2 name Python 2 modules (__builtin__.set, ...); the check below still
        # decides on the Python 3 name
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        qualified = f"{module}.{name}"
        if qualified in self.allowed:
            return self.allowed[qualified]
        # numpy >= 1.25 pickles dtypes as numpy.dtypes.Float32DType etc.: classes, not code
        if module == "numpy.dtypes" and name.endswith("DType"):
            import numpy.dtypes as dtypes
            found = getattr(dtypes, name, None)
            if isinstance(found, type) and issubclass(found, np.dtype) and name != "ObjectDType":
                return found
        raise _RefusedGlobal(qualified)


def load_data_pickle(path: str | os.PathLike):
    """Unpickle a file that may hold only plain containers, scalars and numpy arrays."""
    path = Path(path)
    if not _DataOnlyUnpickler.allowed:
        _DataOnlyUnpickler.allowed = {**_builtin_globals(), **_numpy_globals()}
    try:
        with open(path, "rb") as f:
            return _DataOnlyUnpickler(f).load()
    except _RefusedGlobal as exc:
        raise DataError(f"{path}: refused to unpickle global {exc.qualified!r}: only plain "
                        f"containers and numpy arrays are loaded (nothing was executed)") from None
    except _RefusedCall as exc:
        raise DataError(f"{path}: refused to unpickle {exc}: a data file holds its data, it "
                        f"does not ask for memory") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such pickle file") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory; expected a .pkl file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OverflowError, MemoryError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable pickle ({detail})") from None


# ---- the dataset in memory ---------------------------------------------------------------------

@dataclass
class PoseData:
    """A skeleton dataset in the MMAction2/PYSKL annotation format."""

    split: dict[str, list[str]]
    annotations: list[dict]
    class_names: list[str] | None = None
    extra: dict = field(default_factory=dict)  # other top-level keys, kept for the round trip

    def to_pickle_obj(self) -> dict:
        obj = {"split": self.split, "annotations": self.annotations, **self.extra}
        if self.class_names is not None:
            obj["class_names"] = list(self.class_names)
        return obj

    def protocols(self) -> list[str]:
        """Split names with both `<name>_train` and `<name>_val` (e.g. xsub, xview)."""
        return sorted(k[:-len("_train")] for k in self.split
                      if k.endswith("_train") and k[:-len("_train")] + "_val" in self.split)

    @property
    def num_classes(self) -> int:
        top = max((int(a["label"]) for a in self.annotations), default=-1) + 1
        return max(top, len(self.class_names or ()))


def read_pose_pickle(path: str | os.PathLike, layout: Layout | None = None) -> PoseData:
    """Read and validate an annotation pickle; with a layout, joint count and channels too."""
    return validate_pose_obj(load_data_pickle(path), str(path), layout)


def write_pose_pickle(path: str | os.PathLike, data: PoseData, layout: Layout | None = None) -> Path:
    """Validate, then write atomically (a temp file in the same folder, renamed at the end)."""
    path = Path(path)
    obj = data.to_pickle_obj()
    validate_pose_obj(obj, str(path), layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(obj, f, protocol=4)  # protocol 4: readable by any Python 3.4+
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; an export is to share
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---- validation (one-line errors naming the field) ---------------------------------------------

def validate_pose_obj(obj, where: str, layout: Layout | None = None) -> PoseData:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a dict with keys 'split' and 'annotations', got "
                        f"{type(obj).__name__}")
    for key in ("split", "annotations"):
        if key not in obj:
            raise DataError(f"{where}: missing top-level key {key!r} (expected {{'split': "
                            f"{{name: [frame_dir, ...]}}, 'annotations': [...]}}), found "
                            f"{sorted(map(str, obj))}")
    annotations = obj["annotations"]
    if not isinstance(annotations, list) or not annotations:
        raise DataError(f"{where}: annotations: expected a non-empty list of dicts")
    class_names = _check_class_names(obj.get("class_names"), where)
    seen: set[str] = set()
    for i, ann in enumerate(annotations):
        name = _check_annotation(ann, f"{where}: annotations[{i}]", layout, class_names)
        if name in seen:
            raise DataError(f"{where}: annotations[{i}].frame_dir {name!r} appears twice")
        seen.add(name)
    split = _check_split(obj["split"], where, seen)
    extra = {k: v for k, v in obj.items() if k not in ("split", "annotations", "class_names")}
    for key, value in extra.items():
        check_keepable(value, f"{where}: top-level key {key!r}")
    return PoseData(split, annotations, class_names, extra)


def _check_class_names(names, where: str) -> list[str] | None:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{where}: class_names: expected a list of strings")
    return list(names)


def _check_split(split, where: str, known: set[str]) -> dict[str, list[str]]:
    if not isinstance(split, dict) or not split:
        raise DataError(f"{where}: split: expected a non-empty dict of name -> list of frame_dir")
    for name, ids in split.items():
        if not isinstance(name, str) or not isinstance(ids, (list, tuple)):
            raise DataError(f"{where}: split[{_show(name)}]: expected a list of frame_dir strings")
        for j, sid in enumerate(ids):
            if sid not in known:
                raise DataError(f"{where}: split[{_show(name)}][{j}]: {_show(sid)} is not the frame_dir "
                                f"of any annotation")
        if len(set(ids)) != len(ids):
            raise DataError(f"{where}: split[{_show(name)}] lists a frame_dir twice")
    return split


def _show(value, limit: int = 60) -> str:
    """A value from the file, for a one-line message: arrays by shape, long reprs cut."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_frame_size(value) -> bool:
    return (isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2
            and np.ndim(value) == 1 and all(_is_int(x) and x > 0 for x in value))


def _check_annotation(ann, at: str, layout: Layout | None, class_names) -> str:
    if not isinstance(ann, dict):
        raise DataError(f"{at}: expected a dict, got {type(ann).__name__}")
    for key in REQUIRED_FIELDS:
        if key not in ann:
            raise DataError(f"{at}: missing field {key!r} (expected {list(REQUIRED_FIELDS)})")
    if not isinstance(ann["frame_dir"], str) or not ann["frame_dir"]:
        raise DataError(f"{at}.frame_dir: expected a non-empty string, got {_show(ann['frame_dir'])}")
    label = ann["label"]
    if not _is_int(label) or label < 0:
        raise DataError(f"{at}.label: expected a non-negative integer class index, got "
                        f"{_show(label)} ({type(label).__name__})")
    if class_names is not None and label >= len(class_names):
        raise DataError(f"{at}.label: {label} is out of range for {len(class_names)} class_names")
    if class_names is None and label >= MAX_CLASSES:
        raise DataError(f"{at}.label: {label} is not below {MAX_CLASSES:,} (a class index; add "
                        f"a top-level 'class_names' list if the dataset has that many classes)")
    _check_keypoint(ann, at, layout)
    for key in FRAME_SIZE_FIELDS:  # PreNormalize2D and PoseCompact unpack them as (h, w)
        if key in ann and not _is_frame_size(ann[key]):
            raise DataError(f"{at}.{key}: expected (height, width), two positive integers, got "
                            f"{_show(ann[key])}")
    for key, value in extra_fields(ann).items():
        check_keepable(key, f"{at}: field name {key!r}")
        check_keepable(value, f"{at}.{key}")
    return ann["frame_dir"]


def _check_keypoint(ann: dict, at: str, layout: Layout | None) -> None:
    kp = ann["keypoint"]
    dims = layout.dims if layout else None
    want = (f"(M, T, {layout.num_joints}, {dims}) for layout {layout.name}" if layout
            else "(M, T, V, 2 or 3)")
    if not isinstance(kp, np.ndarray) or kp.ndim != 4 or kp.dtype.kind not in "fiu":
        shape = kp.shape if isinstance(kp, np.ndarray) else type(kp).__name__
        raise DataError(f"{at}.keypoint: expected a numeric array {want}, got {shape}")
    m, t, v, c = kp.shape
    if m < 1 or t < 1 or c not in (2, 3) or (layout and (v, c) != (layout.num_joints, dims)):
        raise DataError(f"{at}.keypoint: expected {want}, got {kp.shape}")
    if not np.isfinite(kp).all():
        raise DataError(f"{at}.keypoint: holds NaN or infinite values")
    if not _is_int(ann["total_frames"]) or ann["total_frames"] != t:
        raise DataError(f"{at}.total_frames: expected {t} (keypoint's T), got "
                        f"{_show(ann['total_frames'])}")
    score = ann.get("keypoint_score")
    if c == 2 and score is None:
        raise DataError(f"{at}: 2D keypoint without 'keypoint_score' (expected (M, T, V) scores)")
    if score is not None and (not isinstance(score, np.ndarray) or score.shape != (m, t, v)
                              or score.dtype.kind not in "fiu"):
        shape = score.shape if isinstance(score, np.ndarray) else type(score).__name__
        raise DataError(f"{at}.keypoint_score: expected a numeric array {(m, t, v)}, got {shape}")


# ---- padded arrays <-> annotations -------------------------------------------------------------

def channels3(ann: dict) -> np.ndarray:
    """(M, T, V, 3) float32: x, y, z for 3D; x, y, score for 2D (PYSKL's GCN input)."""
    kp = np.asarray(ann["keypoint"], dtype=np.float32)
    if kp.shape[-1] == 3:
        return kp
    score = np.asarray(ann["keypoint_score"], dtype=np.float32)[..., None]
    return np.concatenate([kp, score], axis=-1)


def clip_annotation(sample_id: str, keypoint: np.ndarray, num_frames: int, label: int,
                    layout: Layout, num_bodies: int | None = None) -> dict:
    """One record from a padded (M, T, V, 3) clip: the time padding is dropped, and the person
    padding: the first `num_bodies` bodies are kept where the source's count is known, else the
    bodies absent throughout are dropped (one body is always kept); 2D layouts split off
    keypoint_score."""
    if num_bodies is not None:
        kp = np.ascontiguousarray(keypoint[:num_bodies, :int(num_frames)], dtype=np.float32)
    else:
        kp = trim_clip(keypoint, num_frames)
    ann = {"frame_dir": sample_id, "label": int(label), "total_frames": int(kp.shape[1])}
    if layout.dims == 2:
        ann["keypoint"] = np.ascontiguousarray(kp[..., :2])
        ann["keypoint_score"] = np.ascontiguousarray(kp[..., 2])
    else:
        ann["keypoint"] = kp
    return ann
