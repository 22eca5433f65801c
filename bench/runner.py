"""execute_run: one RunSpec -> data -> method.fit -> method.predict -> metrics -> stored RunResult."""
from __future__ import annotations

import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

import numpy as np

from bench import progress, tracking
from bench.errors import BenchError
from bench.specs import RunResult, RunSpec
from bench.store import Store

log = logging.getLogger("bench")
_VERSIONED = ("bench", "numpy", "torch", "transformers", "peft", "mmaction2", "mmengine",
              "mmcv-lite")


def execute_run(spec_dict: dict, out: str, threads: int = 0, track=()) -> dict:
    """Run one spec in this process (its data is spec.data, read from where it is now); always
    returns the stored result as a dict (never raises). `track`: experiment trackers
    (bench.tracking) writing into the run's folder; not part of the run's identity."""
    from bench.paths import cache_root

    spec = RunSpec.from_dict(spec_dict)
    store = Store(Path(out))
    staging = store.staging_dir(spec.run_id)
    handler = logging.FileHandler(staging / "log.txt")
    handler.setFormatter(PlainLines("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    timings, metrics, predictions, error = {}, {}, None, None
    progress.set_sink(store.progress_dir / f"{spec.run_id}.json")  # the driver's live view
    tracking.start(staging, tuple(track or ()), spec.run_id)
    try:
        progress.step(0, 3, "data")
        from bench.methods import METHODS
        method_cls = METHODS.get(spec.method)
        _seed_everything(spec.seed, threads, getattr(method_cls, "uses_torch", True))
        started = time.perf_counter()
        bundle = _load_checked_bundle(spec)
        timings["data_s"] = time.perf_counter() - started

        method = method_cls(spec.config, profile=spec.profile, seed=spec.seed,
                            workdir=staging / "work", cache_dir=cache_root())
        (staging / "work").mkdir(exist_ok=True)
        started = time.perf_counter()
        progress.step(1, 3, "fit")
        method.fit(bundle)
        timings["fit_s"] = time.perf_counter() - started
        started = time.perf_counter()
        progress.step(2, 3, "predict")
        predictions = method.predict(bundle.test, bundle)
        timings["predict_s"] = time.perf_counter() - started
        if predictions.texts is not None and bundle.test.descriptions is not None:
            # Stored beside each explanation so reports can re-score without the dataset.
            predictions.extra["reference"] = list(bundle.test.descriptions)
        progress.step(0, 1, "scoring")  # explanation scores load MiniLM: a minute on a CPU
        if predictions.texts is not None:  # what each test skeleton shows, for grounding
            predictions.extra["motion_facts"] = motion_facts(bundle)
        metrics = score(predictions)
        progress.step(1, 1, "scoring")
        metrics.update(method.diagnostics())
        # split sizes, so a report states them without the data (num_test: from score)
        counts = bundle.manifest.counts()
        metrics.update(num_train=counts["train"], num_val=counts["val"])
        tracking.scalars("test", metrics)  # every method's run gets its final numbers
        status = "done"
    except Exception as exc:  # recorded as a failed run; the sweep goes on
        log.exception("run %s failed", spec.run_id)
        status, predictions = "failed", None
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        progress.set_sink(None)
        tracking.finish()  # event files flushed before the folder is committed
    result = RunResult(spec.run_id, spec, status, metrics, timings, _versions(), error)
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: only rank 0 stores the run
        shutil.rmtree(staging, ignore_errors=True)
        return result.to_dict()
    store.commit(staging, result, predictions)
    return result.to_dict()


class PlainLines(logging.Formatter):
    """log.txt holds lines: a carriage return (a progress bar's redraw) becomes a line break."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r\n", "\n").replace("\r", "\n")


def score(predictions) -> dict:
    """The registry's run-time metrics (no MiniLM), each text score beside its controls."""
    from bench.metrics.registry import score_run

    return score_run(predictions, run_time=True)


def motion_facts(bundle) -> list[dict]:
    """Per test clip, its timed motion events (bench.metrics.grounding), for grounding."""
    from bench.data.layouts import get_layout
    from bench.metrics.grounding import skeleton_facts

    test = bundle.test
    return skeleton_facts(test.keypoint, test.num_frames, get_layout(bundle.layout), bundle.fps)


def fresh_motion_facts(spec: RunSpec) -> list[dict]:
    """A stored run's test motion facts computed again from its data by this version's
    grounding (for runs stored before the facts changed)."""
    return motion_facts(_load_checked_bundle(spec))


def _load_checked_bundle(spec: RunSpec):
    from bench.data.datasets import load_bundle, resolve_source, suite_for

    # suite_for, not SUITES.get: a pickle's suite (`--data FILE.pkl`) is made from the file
    source = resolve_source(suite_for(spec.suite, spec.data), spec.data)
    if source.ref.digest != spec.data.digest:
        raise BenchError(f"the data at {source.root} changed since the run was planned (content "
                         f"{source.ref.digest[:12]} != {spec.data.digest[:12]})")
    if source.manifest.sha256 != spec.manifest_sha256:
        raise BenchError(f"the data under {source.root} no longer gives the planned split "
                         f"(manifest {source.manifest.short} != {spec.manifest_sha256[:12]})")
    return load_bundle(source)


def _seed_everything(seed: int, threads: int, with_torch: bool = True) -> None:
    """`with_torch=False` for methods that never use it (noop): no 2 s import per run."""
    random.seed(seed)
    np.random.seed(seed)
    if not with_torch:
        return
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)


def _versions() -> dict:
    from datetime import datetime, timezone

    versions = {"python": platform.python_version(), "machine": platform.machine(),
                "device": _device(), "git": _git_hash(),
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}  # finished
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _device() -> str:
    """The GPU if the run used torch (a run that never imported it ran on the CPU)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({os.cpu_count()} cores)"


def _git_hash() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None
