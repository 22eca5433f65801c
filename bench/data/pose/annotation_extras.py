"""Annotation fields beyond the ones bench reads (img_shape, original_shape, ...): checked, kept
in the prepared cache, and given back on export, so pickle -> prepare -> pickle is exact.

A kept value is plain data: None, bool, int, float, complex, str, bytes, list, tuple, dict, set,
frozenset (nested), numpy scalars, and numpy arrays of numbers or strings up to MAX_VALUE_BYTES.
The restricted unpickler admits a few other harmless types (slice, range, OrderedDict, dtype);
those are refused here with the field's name, since they would not come back as they were.

A prepared folder keeps them in `extras.json`, one column per field. A field that holds a tuple
of k ints in every sample (img_shape, original_shape: the common case) is one (N, k) `.npy`
array of the narrowest int type that holds them; any other field is a list of JSON values tagged
with their type (`{"$t": "tuple", ...}`), so tuples stay tuples and numpy values keep their dtype.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from bench.errors import DataError

CORE_FIELDS = ("frame_dir", "label", "keypoint", "keypoint_score", "total_frames")
MAX_VALUE_BYTES = 1 << 20
EXTRAS_FILE = "extras.json"
_ABSENT = {"$t": "absent"}  # a sample without this field
_INT64 = (-(1 << 63), (1 << 63) - 1)
_PLAIN = "None, bool, int, float, complex, str, bytes, list, tuple, dict, set, numpy arrays"


class _Unkeepable(ValueError):
    pass


def extra_fields(ann: dict) -> dict:
    """The annotation's fields other than the ones bench turns into arrays."""
    return {k: v for k, v in ann.items() if k not in CORE_FIELDS}


def check_keepable(value, at: str) -> None:
    """A one-line DataError naming `at` unless `value` is plain data that encodes exactly."""
    try:
        encode(value)
    except _Unkeepable as exc:
        raise DataError(f"{at}: {exc} cannot be kept for the round trip; expected plain data "
                        f"({_PLAIN} up to {MAX_VALUE_BYTES >> 20} MiB)") from None
    except RecursionError:
        raise DataError(f"{at}: nested too deeply to be kept") from None


# ---- exact JSON encoding -----------------------------------------------------------------------

def encode(value):
    """A JSON-able form of `value` that `decode` turns back into an equal value of the same type."""
    kind = type(value)
    if value is None or kind in (bool, int, str, float):
        return value  # json writes nan and inf as NaN and Infinity, and reads them back
    if kind is list:
        return [encode(v) for v in value]
    if kind in (tuple, set, frozenset):
        return {"$t": kind.__name__, "v": [encode(v) for v in value]}
    if kind is dict:
        return {"$t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind is complex:
        return {"$t": "complex", "v": [value.real, value.imag]}
    if kind is bytes:
        return {"$t": "bytes", "v": _b64(value)}
    if kind is np.ndarray or isinstance(value, np.generic):
        return _encode_numpy(value)
    raise _Unkeepable(f"a value of type {kind.__name__}")


def _encode_numpy(value):
    dtype = value.dtype
    if dtype.hasobject or dtype.kind == "V":
        raise _Unkeepable(f"a numpy {'array' if value.ndim else 'scalar'} of dtype {dtype}")
    if value.nbytes > MAX_VALUE_BYTES:
        raise _Unkeepable(f"an array of {value.nbytes} bytes")
    data = _b64(np.ascontiguousarray(value).tobytes())
    if isinstance(value, np.generic):
        return {"$t": "npscalar", "dtype": dtype.str, "v": data}
    return {"$t": "ndarray", "dtype": dtype.str, "shape": list(value.shape), "v": data}


def decode(obj):
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tag, v = obj["$t"], obj.get("v")
    if tag in ("tuple", "set", "frozenset"):
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](decode(x) for x in v)
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    if tag == "complex":
        return complex(*v)
    if tag == "bytes":
        return base64.b64decode(v)
    if tag == "npscalar":
        return np.frombuffer(base64.b64decode(v), dtype=np.dtype(obj["dtype"]))[0]
    if tag == "ndarray":
        flat = np.frombuffer(base64.b64decode(v), dtype=np.dtype(obj["dtype"]))
        return flat.reshape(obj["shape"]).copy()  # writable, like an unpickled array
    if tag == "absent":
        return _ABSENT
    raise ValueError(f"unknown extras tag {tag!r}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---- prepared folder ---------------------------------------------------------------------------

def save_extras(folder: Path, annotations: list[dict], top_level: dict) -> None:
    """Write the annotations' extra fields and the file's extra top-level keys into `folder`."""
    names: dict = {}  # field -> None, in first-seen order
    for ann in annotations:
        names.update(dict.fromkeys(extra_fields(ann)))
    columns = []
    for j, name in enumerate(names):
        values = [ann.get(name, _ABSENT) for ann in annotations]
        column = {"field": encode(name)}
        if _int_tuples(values):
            column["int_tuples"] = f"extra-{j}.npy"
            np.save(folder / column["int_tuples"], _smallest_int_array(values))
        else:
            column["values"] = [_ABSENT if v is _ABSENT else encode(v) for v in values]
        columns.append(column)
    payload = {"count": len(annotations), "fields": columns, "top_level": encode(top_level)}
    (folder / EXTRAS_FILE).write_text(json.dumps(payload, separators=(",", ":")))


def load_extras(folder: Path) -> tuple[list[dict] | None, dict]:
    """(one dict of extra fields per sample, or None when no sample has any; top-level extras)."""
    payload = json.loads((folder / EXTRAS_FILE).read_text())
    if not payload["fields"]:
        return None, decode(payload["top_level"])
    rows: list[dict] = [{} for _ in range(payload["count"])]
    for column in payload["fields"]:
        name = decode(column["field"])
        if "int_tuples" in column:
            for row, value in zip(rows, np.load(folder / column["int_tuples"]).tolist()):
                row[name] = tuple(value)
            continue
        for row, value in zip(rows, column["values"]):
            value = decode(value)
            if value is not _ABSENT:
                row[name] = value
    return rows, decode(payload["top_level"])


def _smallest_int_array(values: list) -> np.ndarray:
    """(N, k) in the narrowest of int16/32/64 that holds them: img_shape fits int16."""
    wide = np.array(values, dtype=np.int64)
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if not wide.size or (info.min <= wide.min() and wide.max() <= info.max):
            return wide.astype(dtype)
    return wide


def _int_tuples(values: list) -> bool:
    """Every sample holds a tuple of the same number (>= 1) of Python ints that fit int64."""
    first = values[0]
    if type(first) is not tuple or not first:
        return False
    return all(type(v) is tuple and len(v) == len(first)
               and all(type(x) is int and _INT64[0] <= x <= _INT64[1] for x in v)
               for v in values)
