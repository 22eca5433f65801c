"""Importing MMAction2 1.2.0 as installed from its wheel, and loading checkpoints safely.

Three things need care (see DESIGN.md, "Baselines"):

- The wheel lacks `mmaction/models/localizers/drn/`, which `mmaction.models` imports. When that
  folder is missing we register a stand-in module first; a real DRN, where installed, is used.
- With `transformers` installed (LVLM-VAR needs it) mmaction imports its VindLU multimodal models,
  which need `timm` and transformers 4.x. bench uses none of them: unless `mmaction.models` is
  already imported, we register VindLU's own install-hint placeholders instead.
- mmengine calls `torch.load` without `weights_only`, and torch >= 2.6 refuses mmengine's own
  checkpoints under the new default. `trusted_checkpoints(run_dir)` lets full unpickling through
  only for files under the run directory the toolkit wrote itself; any other file loads
  weights-only. Nothing is set process-wide.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import sys
import threading
import types
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DRN_MODULE = "mmaction.models.localizers.drn"
# Warnings on import that concern nothing bench uses (compiled mmcv ops, setuptools' future).
_IMPORT_NOISE = (r"Fail to import ``MultiScaleDeformableAttention``",
                 r"pkg_resources is deprecated")
SCORE_METRIC = "BenchScoreDump"


@dataclass(frozen=True)
class MMAction:
    """What the adapters need from MMAction2, after its modules are registered."""

    version: str
    Config: Any  # mmengine.config.Config
    Runner: Any  # mmengine.runner.Runner
    MODELS: Any  # mmaction.registry.MODELS (bench's CTR-GCN and MS-G3D are registered here)
    METRICS: Any
    TRANSFORMS: Any
    configs_dir: Path  # the configs shipped inside the wheel (mmaction/.mim/configs)


@functools.cache
def import_mmaction() -> MMAction:
    """Import mmaction (stand-in for the missing DRN), register its modules and bench's metric."""
    spec = importlib.util.find_spec("mmaction")
    if spec is None or spec.origin is None:
        from bench.errors import BenchError
        raise BenchError("mmaction2 is not installed: pip install mmaction2==1.2.0 (see README)")
    package_dir = Path(spec.origin).parent
    if not (package_dir / "models" / "localizers" / "drn").is_dir():
        _register_drn_stand_in()
    with warnings.catch_warnings():
        for message in _IMPORT_NOISE:
            warnings.filterwarnings("ignore", message=message)
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script in mmaction
        if "mmaction.models" not in sys.modules:
            import mmaction.utils.dependency as dependency
            dependency.WITH_MULTIMODAL = False  # read once, by mmaction/models/multimodal

        import mmaction
        from mmaction.registry import METRICS, MODELS, TRANSFORMS
        from mmaction.utils import register_all_modules
        from mmengine.config import Config
        from mmengine.runner import Runner

        register_all_modules(init_default_scope=False)
    if METRICS.get(SCORE_METRIC) is None:
        METRICS.register_module(name=SCORE_METRIC, module=_score_dump_class())
    from bench.methods.gcn_models import register_bench_modules

    register_bench_modules(MODELS, TRANSFORMS)  # CTR-GCN, MS-G3D, layout-aware transforms
    return MMAction(mmaction.__version__, Config, Runner, MODELS, METRICS, TRANSFORMS,
                    package_dir / ".mim" / "configs")


def _register_drn_stand_in() -> None:
    """`mmaction.models.localizers` does `from .drn.drn import DRN`: give it a placeholder."""
    if DRN_MODULE in sys.modules:
        return

    class DRN:  # not registered in MODELS: building a DRN config fails with a registry error
        def __init__(self, *args, **kwargs):
            raise RuntimeError("DRN is missing from the installed mmaction2 wheel")

    package = types.ModuleType(DRN_MODULE)
    package.__path__ = []  # a package, so `.drn.drn` resolves
    module = types.ModuleType(DRN_MODULE + ".drn")
    module.DRN = DRN
    package.drn = module
    sys.modules[DRN_MODULE] = package
    sys.modules[DRN_MODULE + ".drn"] = module


def _score_dump_class():
    """A metric that writes every sample's class scores, keyed by frame_dir, to an .npz file.

    The test pipeline must pack `frame_dir` into the data samples' metainfo (PackActionInputs
    meta_keys). Returns {"num_samples": n} as its "metric".
    """
    from mmengine.evaluator import BaseMetric

    class BenchScoreDump(BaseMetric):
        default_prefix = "bench"

        def __init__(self, out_file: str, collect_device: str = "cpu", prefix: str | None = None):
            super().__init__(collect_device=collect_device, prefix=prefix)
            self.out_file = str(out_file)

        def process(self, data_batch, data_samples) -> None:
            for sample in data_samples:
                if "frame_dir" not in sample:
                    raise KeyError("BenchScoreDump needs 'frame_dir' in the packed metainfo")
                self.results.append((str(sample["frame_dir"]),
                                     sample["pred_score"].detach().cpu().numpy().astype(np.float32),
                                     int(sample["gt_label"].reshape(-1)[0])))

        def compute_metrics(self, results: list) -> dict:
            ids = np.array([r[0] for r in results], dtype=str)
            scores = np.stack([r[1] for r in results]) if results else np.zeros((0, 0), np.float32)
            labels = np.array([r[2] for r in results], dtype=np.int64)
            tmp = self.out_file + ".tmp.npz"
            np.savez(tmp, sample_ids=ids, scores=scores, labels=labels)
            os.replace(tmp, self.out_file)
            return {"num_samples": len(results)}

    return BenchScoreDump


# --- checkpoints -------------------------------------------------------------------------------

_patch_lock = threading.RLock()


def _is_under(path: Any, root: Path) -> bool:
    if not isinstance(path, (str, os.PathLike)):
        return False  # buffers, file objects: provenance unknown
    try:
        return Path(os.path.expanduser(os.fspath(path))).resolve().is_relative_to(root)
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def trusted_checkpoints(run_dir: str | os.PathLike):
    """Within the block, `torch.load` unpickles fully only files under `run_dir`.

    Files there were written by this toolkit's own run (mmengine checkpoints hold optimizer state,
    message-hub history and numpy objects that the weights-only unpickler refuses). Every other
    source, paths elsewhere (symlinks resolved), buffers and file objects, loads weights-only,
    whatever the caller asked for. The patch (of the `torch.load` attribute, which mmengine looks
    up at call time) is undone on exit, even on error; blocks in concurrent threads run one at a
    time.
    """
    import torch

    root = Path(run_dir).resolve()
    with _patch_lock:
        original = torch.load

        @functools.wraps(original)
        def guarded_load(f, *args, **kwargs):
            kwargs["weights_only"] = not _is_under(f, root)
            return original(f, *args, **kwargs)

        torch.load = guarded_load
        try:
            yield root
        finally:
            torch.load = original


def run_phase(mm, cfg, phase: str):
    """Build mmengine's Runner and run `phase` ("train" or "test") quietly.

    The console gets errors only: the full log goes to work_dir/<timestamp>/<timestamp>.log, and
    what mmengine print()s (checkpoint loading) to work_dir/stdout.txt. The log file is closed
    afterwards (mmengine keeps its loggers alive for the whole process).
    """

    class QuietRunner(mm.Runner):
        def build_logger(self, *args, **kwargs):
            logger = super().build_logger(*args, **kwargs)
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler:
                    handler.setLevel(logging.ERROR)
            return logger

    cfg.experiment_name = f"bench-{phase}-{uuid.uuid4().hex[:8]}"
    from bench.methods.mmaction_progress import instrument

    instrument(cfg, phase)  # epochs and test batches in bench's progress and log.txt
    with quiet_warnings():
        runner = QuietRunner.from_cfg(cfg)
        try:
            with open(Path(cfg.work_dir) / "stdout.txt", "a") as out, \
                    contextlib.redirect_stdout(out):
                getattr(runner, phase)()
        finally:
            for handler in list(runner.logger.handlers):
                if isinstance(handler, logging.FileHandler):
                    runner.logger.removeHandler(handler)
                    handler.close()
    return runner


@contextlib.contextmanager
def quiet_warnings():
    """Deprecation notices from mmengine/mmaction/setuptools say nothing about the run."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")
        yield
