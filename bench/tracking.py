"""Opt-in experiment trackers (`bench run --track tensorboard[,wandb]`), off by default.

Training curves land in the run's own folder (runs/<id>/tb/ for TensorBoard, runs/<id>/wandb/
for Weights & Biases, offline unless an API key is set), so they move and are kept with the run.
Tracking is never part of a run's identity: the same run with or without it has the same id.

How it is wired: the runner calls `start` in a run's process and `finish` after it; a method logs
with `scalar(tag, value, step)`, which does nothing while tracking is off (LoRA steps in
lvlm_var/tuning.py, VST epochs in lvlm_var/vst.py); MMAction2 runs get mmengine's own
visualisation backends from `mmengine_backends`. The settings travel in the environment, so the
processes a run starts (torchrun ranks) track into the same folder.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from bench.errors import BenchError

TRACKERS = ("tensorboard", "wandb")
ENV_TRACK, ENV_DIR, ENV_NAME = "BENCH_TRACK", "BENCH_TRACK_DIR", "BENCH_TRACK_NAME"
TB_DIR, WANDB_DIR = "tb", "wandb"
_INSTALL = {"tensorboard": "pip install 'bench[track]' (or pip install tensorboard)",
            "wandb": "pip install wandb"}

_writers: dict[str, object] = {}  # this process's open writers, by tracker name


def parse(text: str | None) -> tuple[str, ...]:
    """'tensorboard,wandb' -> ("tensorboard", "wandb"); None or '' -> (); unknown names and
    trackers whose package is missing fail with one line."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in (text or "").split(",") if n.strip()))
    for name in names:
        if name not in TRACKERS:
            raise BenchError(f"--track {name!r}: expected one of {', '.join(TRACKERS)} "
                             f"(comma-separated)")
        if importlib.util.find_spec(name) is None:
            raise BenchError(f"--track {name} needs the optional package {name!r}: "
                             f"{_INSTALL[name]}")
    return names


def start(run_dir: Path, names, run_name: str) -> None:
    """Track this process's run (and the processes it starts) into `run_dir`."""
    finish()
    if names:
        os.environ.update({ENV_TRACK: ",".join(names), ENV_DIR: str(run_dir),
                           ENV_NAME: run_name})


def active() -> tuple[str, ...]:
    return tuple(n for n in os.environ.get(ENV_TRACK, "").split(",") if n)


def run_dir() -> Path | None:
    return Path(os.environ[ENV_DIR]) if active() and os.environ.get(ENV_DIR) else None


def scalar(tag: str, value: float, step: int) -> None:
    """One point of a training curve (e.g. "lora/loss" at step 12); free when tracking is off.
    Under torchrun only rank 0 writes (the other ranks' folders are dropped)."""
    if not active() or int(os.environ.get("RANK", "0")) != 0:
        return
    for name in active():
        writer = _writers.get(name) or _open(name)
        if name == "tensorboard":
            writer.add_scalar(tag, float(value), int(step))
        else:
            writer.log({tag: float(value)}, step=int(step))


def scalars(prefix: str, values: dict, step: int = 0) -> None:
    """The numeric entries of `values` as `prefix/key` (a run's final metrics)."""
    for key, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            scalar(f"{prefix}/{key}", value, step)


def finish() -> None:
    """Flush and close this process's writers; tracking is off afterwards."""
    for name, writer in list(_writers.items()):
        try:
            writer.close() if name == "tensorboard" else writer.finish()
        except Exception:  # noqa: BLE001 - a tracker must never fail the run
            pass
    _writers.clear()
    for key in (ENV_TRACK, ENV_DIR, ENV_NAME):
        os.environ.pop(key, None)


def mmengine_backends() -> list[dict]:
    """mmengine visualisation backends for an MMAction2 training run (rank 0 writes)."""
    root = run_dir()
    if root is None:
        return []
    out = []
    if "tensorboard" in active():
        out.append(dict(type="TensorboardVisBackend", save_dir=str(root / TB_DIR)))
    if "wandb" in active():
        out.append(dict(type="WandbVisBackend", save_dir=str(root / WANDB_DIR),
                        init_kwargs=_wandb_kwargs(root)))
    return out


def _open(name: str):
    root = run_dir()
    if name == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter  # heavy: only when tracking

        writer = SummaryWriter(str(root / TB_DIR))
    else:
        import wandb

        writer = wandb.init(**_wandb_kwargs(root))
    _writers[name] = writer
    return writer


def _wandb_kwargs(root: Path) -> dict:
    """Offline unless the user has an API key (or set WANDB_MODE): a benchmark never uploads
    by surprise; `wandb sync runs/<id>/wandb/...` uploads later."""
    mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY")
                                             else "offline")
    (root / WANDB_DIR).mkdir(parents=True, exist_ok=True)
    return dict(project=os.environ.get("WANDB_PROJECT", "bench"),
                name=os.environ.get(ENV_NAME) or root.name, dir=str(root / WANDB_DIR), mode=mode)
