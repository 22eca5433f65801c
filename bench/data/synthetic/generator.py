"""Synthetic NTU RGB+D: deterministic `.skeleton` files in the raw format and naming of the real
dataset, one ground-truth motion description per sample, and a content-addressed cache of them.

Like the real dataset, the three cameras (C001 at 0 degrees, C002 at -45, C003 at +45) film the
same performance; in R001 the performer faces camera 2, in R002 camera 3. Each sample's random
draws are keyed by its own ids, so a sample's bytes do not depend on what else is generated.

Layout of a generated root:
  nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton
  descriptions.jsonl   {"sample_id", "label" (0-based), "description", "parts", "persons"}
  meta.json            generator version, parameters, sample count (written last)
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from bench.data.synthetic.motions import Variation, perform
from bench.data.ntu.names import format_sample_name
from bench.data.synthetic.programs import class_program
from bench.data.synthetic.skeleton import (
    Performer, body_ids, body_to_world, capture_body, draw_performer, noise_body, pose_joints,
)
from bench.errors import BenchError

GENERATOR_VERSION = "1"
SKELETON_DIR = "nturgb+d_skeletons"
DESCRIPTIONS_FILE = "descriptions.jsonl"
META_FILE = "meta.json"
_LIMITS = {"ntu60": {"actions": 60, "setups": 17, "performers": 40},
           "ntu120": {"actions": 120, "setups": 32, "performers": 106}}
CAMERA_ANGLES = {1: 0.0, 2: -45.0, 3: 45.0}  # degrees about the vertical axis
FACED_CAMERA = {1: 2, 2: 3}  # replication -> the camera the performer faces


# ---- parameters ------------------------------------------------------------------------------

def normalise_params(dataset: str = "ntu60", actions=None, setups=(1,), cameras=(1, 2, 3),
                     performers=tuple(range(1, 8)), replications=(1, 2), seed: int = 0,
                     fps: float = 30) -> dict:
    """Validated, canonical generation parameters (sorted id lists): the cache key."""
    if dataset not in _LIMITS:
        raise BenchError(f"unknown dataset {dataset!r} for synthetic data; expected one of "
                         f"{sorted(_LIMITS)}")
    limits = _LIMITS[dataset]
    if actions is None:
        actions = range(1, limits["actions"] + 1)
    ids = {}
    for name, values, top in (("actions", actions, limits["actions"]),
                              ("setups", setups, limits["setups"]), ("cameras", cameras, 3),
                              ("performers", performers, limits["performers"]),
                              ("replications", replications, 2)):
        values = [values] if isinstance(values, int) else list(values)
        if not values or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                             or not 1 <= v <= top for v in values):
            raise BenchError(f"synthetic {dataset} {name} must be a non-empty list of integers "
                             f"in 1..{top}, got {values!r}")
        ids[name] = sorted({int(v) for v in values})
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BenchError(f"synthetic data seed must be a non-negative integer, got {seed!r}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 5 <= fps <= 120:
        raise BenchError(f"synthetic data fps must be a number in 5..120, got {fps!r}")
    return {"dataset": dataset, **ids, "seed": int(seed), "fps": float(fps)}


def params_key(params: dict) -> str:
    unknown = set(params) - set(inspect.signature(normalise_params).parameters)
    if unknown:
        raise BenchError(f"unknown synthetic data parameter(s) {sorted(unknown)}; expected "
                         f"{sorted(inspect.signature(normalise_params).parameters)}")
    canonical = json.dumps({"params": normalise_params(**params), "version": GENERATOR_VERSION},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# ---- public API ------------------------------------------------------------------------------

def generate_ntu(out_dir: str | os.PathLike, *, dataset: str = "ntu60", actions=None,
                 setups=(1,), cameras=(1, 2, 3), performers=tuple(range(1, 8)),
                 replications=(1, 2), seed: int = 0, fps: float = 30) -> Path:
    """Write a synthetic NTU dataset to out_dir (which must not exist) and return its path.

    It is generated in a temporary folder next to out_dir and renamed at the end, so an
    interrupted run leaves no partial out_dir."""
    params = normalise_params(dataset, actions, setups, cameras, performers, replications,
                              seed, fps)
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise BenchError(f"{out_dir} already exists; choose a new folder for synthetic data")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial",
                                dir=out_dir.parent))
    try:
        count = _write_dataset(tmp, params)
        meta = {"generator": "bench.data.synthetic", "generator_version": GENERATOR_VERSION,
                "params": params, "num_samples": count, "layout": "ntu25",
                "skeleton_dir": SKELETON_DIR, "synthetic": True}
        (tmp / META_FILE).write_text(json.dumps(meta, sort_keys=True) + "\n")
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def synthetic_root(params: dict, cache_root: str | os.PathLike) -> Path:
    """cache_root/synthetic/<hash of params and GENERATOR_VERSION>, generated on first use."""
    root = Path(cache_root) / "synthetic" / params_key(params)
    return generate_once(root, is_complete, lambda: generate_ntu(root, **params))


def generate_once(root: Path, complete, generate) -> Path:
    """root, made by generate() unless complete(root) already holds; a concurrent process that
    finished first (so generate's atomic rename failed) counts as done."""
    if complete(root):
        return root
    if root.exists():  # left incomplete by hand: the atomic rename never does that
        shutil.rmtree(root)
    try:
        generate()
    except (BenchError, OSError):
        if not complete(root):  # otherwise another process generated it first
            raise
    return root


def is_complete(root: str | os.PathLike) -> bool:
    root = Path(root)
    try:
        meta = json.loads((root / META_FILE).read_text())
        with os.scandir(root / SKELETON_DIR) as entries:
            files = sum(1 for e in entries if e.name.endswith(".skeleton"))
        with open(root / DESCRIPTIONS_FILE, "rb") as f:
            lines = sum(1 for _ in f)
    except (OSError, ValueError):
        return False
    return meta.get("generator_version") == GENERATOR_VERSION and \
        files == lines == meta.get("num_samples")


def read_descriptions(root: str | os.PathLike) -> dict[str, dict]:
    """sample id -> its descriptions.jsonl record."""
    with open(Path(root) / DESCRIPTIONS_FILE, encoding="utf-8") as f:
        return {rec["sample_id"]: rec for rec in map(json.loads, f)}


# ---- generation --------------------------------------------------------------------------

def _write_dataset(root: Path, params: dict) -> int:
    skeleton_dir = root / SKELETON_DIR
    skeleton_dir.mkdir()
    seed, fps = params["seed"], params["fps"]
    cameras = {(s, c): setup_camera(seed, s, c) for s in params["setups"] for c in params["cameras"]}
    people = {p: [draw_performer(np.random.default_rng([seed, 1, p, k])) for k in (1, 2)]
              for p in params["performers"]}
    records = []
    for setup, performer, rep, action in product(params["setups"], params["performers"],
                                                 params["replications"], params["actions"]):
        scene = perform_scene(seed, (setup, performer, rep, action), people[performer], fps)
        for cam in params["cameras"]:
            name = format_sample_name(setup, cam, performer, rep, action)
            rng = np.random.default_rng([seed, 4, setup, cam, performer, rep, action])
            bodies, present = _film(scene["world"], cameras[setup, cam], rng)
            text = _skeleton_text(bodies, present, body_ids(rng, len(bodies)))
            (skeleton_dir / f"{name}.skeleton").write_bytes(text.encode("ascii"))
            records.append({"sample_id": name, "label": action - 1,
                            "description": scene["description"], "parts": scene["parts"],
                            "persons": len(scene["world"])})
    records.sort(key=lambda r: r["sample_id"])
    with open(root / DESCRIPTIONS_FILE, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    return len(records)


@dataclass(frozen=True)
class Camera:
    rotation: np.ndarray  # (3, 3) world -> camera (rows: camera left, up, forward)
    position: np.ndarray  # (3,) metres


def setup_camera(seed: int, setup: int, cam: int) -> Camera:
    """All cameras of a setup share height and distance (as in NTU); each gets a small jitter."""
    setup_rng = np.random.default_rng([seed, 2, setup])
    distance, height = setup_rng.uniform(2.8, 3.4), setup_rng.uniform(0.7, 1.2)
    tilt = setup_rng.uniform(-2.0, 8.0)  # degrees, looking down
    rng = np.random.default_rng([seed, 2, setup, cam])
    angle = np.radians(CAMERA_ANGLES[cam] + rng.uniform(-3, 3))
    tilt = np.radians(tilt + rng.uniform(-1, 1))
    position = np.array([np.sin(angle) * distance, height, np.cos(angle) * distance])
    forward = np.array([-np.sin(angle) * np.cos(tilt), -np.sin(tilt),
                        -np.cos(angle) * np.cos(tilt)])  # towards the performance area
    up = np.array([0.0, 1.0, 0.0]) - forward[1] * forward
    up /= np.linalg.norm(up)
    left = np.cross(up, forward)  # Kinect camera space: x to the sensor's left, y up, z out
    return Camera(np.stack([left, up, forward]), position)


def perform_scene(seed: int, ids: tuple, people: list[Performer], fps: float) -> dict:
    """One performance in world coordinates (seen by every camera): per person (T, 25, 3)."""
    setup, performer, rep, action = ids
    rng = np.random.default_rng([seed, 3, setup, performer, rep, action])
    program = class_program(action)
    who = people[: program.persons]
    # This take: the performer's habits, a little faster or slower, larger or smaller.
    takes = [Variation(speed=v.speed * rng.uniform(0.9, 1.1),
                       style=v.style * rng.uniform(0.95, 1.05), right_handed=v.right_handed)
             for v in (p.variation for p in who)]
    done = perform(program, takes, rng, fps=fps, min_frames=round(48 * fps / 30),
                   max_frames=round(84 * fps / 30))
    facing = np.radians(CAMERA_ANGLES[FACED_CAMERA[rep]] + rng.uniform(-8, 8))
    centre = rng.normal(0.0, 0.1, 2)
    world = []
    for k, (person, tracks) in enumerate(zip(who, done.tracks)):
        joints = pose_joints(tracks, person.bones, 1 if person.variation.right_handed else -1)
        if program.persons == 1:
            world.append(body_to_world(joints, centre, facing))
        else:  # face each other across the group's front
            side = (-1, 1)[k]
            right = np.array([-np.cos(facing), np.sin(facing)])
            spot = centre + side * right * program.spacing / 2
            world.append(body_to_world(joints, spot, facing + side * np.pi / 2))
    return {"world": world, "description": done.description, "parts": done.parts}


# ---- the raw text format -------------------------------------------------------------------

_JOINT_LINE = " ".join(["%.7g"] * 11) + " %d\r\n"


def _film(world: list[np.ndarray], camera: Camera, rng: np.random.Generator):
    """What one camera's tracker reports: the bodies, and which of them each frame holds."""
    num_frames = len(world[0])
    bodies = [capture_body(w, camera.rotation, camera.position, rng, np.arange(num_frames))
              for w in world]
    if rng.random() < 0.10:  # a short-lived extra detection, as in real recordings
        bodies.append(noise_body(camera.rotation, camera.position, rng, num_frames))
    present = np.zeros((len(bodies), num_frames), bool)
    for b, body in enumerate(bodies):
        present[b, body["frames"]] = True
    if rng.random() < 0.06:  # the tracker loses everyone for a few frames at one end
        lost = rng.integers(1, 4)
        present[:, slice(0, lost) if rng.random() < 0.5 else slice(num_frames - lost, None)] = False
    return bodies, present


def _skeleton_text(bodies: list[dict], present: np.ndarray, ids: list[int]) -> str:
    """The `.skeleton` text (CRLF line ends). One `%` over a template of the whole file keeps
    the formatting of its ~20,000 numbers in C."""
    templates = [(f"{body_id} %d 1 {body['hands'][0]} 1 {body['hands'][1]} 0 %.7g %.7g 2\r\n"
                  f"25\r\n" + _JOINT_LINE * 25) for body, body_id in zip(bodies, ids)]
    row_of = [dict(zip(body["frames"].tolist(), body["rows"])) for body in bodies]
    parts, rows = [f"{present.shape[1]}\r\n"], []
    for f, here in enumerate(present.T):
        who = np.flatnonzero(here)
        parts.append(f"{len(who)}\r\n")
        for b in who:
            parts.append(templates[b])
            rows.append(row_of[b][f])
    values = np.concatenate(rows).tolist() if rows else []
    return "".join(parts) % tuple(values)
