"""Progress of MMAction2 (mmengine) runs in bench's terms: a Hook that reports training iterations
and test batches to `bench.progress` (the driver's per-run bar and ETA) and logs one plain line
per epoch to the `bench` logger (the run's log.txt), e.g.

    stgcn epoch 3/16 loss 0.812 (45s, ETA 2m10s)

`instrument(cfg, phase)` adds the hook to a config's custom_hooks and, when tracking is on
(`bench run --track`), mmengine's visualisation backends for the training curves.
"""
from __future__ import annotations

import logging
import time

from bench import cpu_share, progress, tracking

log = logging.getLogger("bench")
HOOK_TYPE = "BenchProgressHook"
TEST_LOG_EVERY_S = 10.0  # a test loop longer than this logs a line at most this often

_registered = None


def instrument(cfg, phase: str) -> None:
    """Report this run's progress (and, when tracking, its curves) from mmengine's Runner."""
    hook_class()  # registered before the Runner builds its hooks
    name = str(cfg.model.get("backbone", {}).get("type", "mmaction")).lower()
    hooks = [h for h in (cfg.get("custom_hooks") or []) if h.get("type") != HOOK_TYPE]
    cfg.custom_hooks = hooks + [dict(type=HOOK_TYPE, name=name)]
    backends = tracking.mmengine_backends() if phase == "train" else []
    if backends:
        visualizer = cfg.get("visualizer") or dict(type="Visualizer")
        visualizer["vis_backends"] = list(visualizer.get("vis_backends") or []) + backends
        cfg.visualizer = visualizer


def hook_class():
    """The Hook class, made and registered with mmengine's HOOKS once per process (mmengine is
    imported only here, when an MMAction2 run builds its Runner)."""
    global _registered
    if _registered is not None:
        return _registered
    from mmengine.dist import is_main_process
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    class BenchProgressHook(Hook):
        priority = "LOW"  # after the loggers and the checkpoint hook (val metrics are in)

        def __init__(self, name: str = "mmaction"):
            self.name = name

        # --- training -----------------------------------------------------------------------
        def before_train(self, runner) -> None:
            self._started = time.monotonic()
            self._first_epoch = runner.epoch  # a resumed run starts later
            self._last_loss = None

        def before_train_epoch(self, runner) -> None:
            self._losses = []
            cpu_share.adopt_freed_cpus()  # the cores of runs that finished, once nothing waits

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            loss = (outputs or {}).get("loss")
            if loss is not None:
                self._losses.append(float(loss.item() if hasattr(loss, "item") else loss))
            if is_main_process():
                last = f" (loss {self._last_loss:.3f})" if self._last_loss is not None else ""
                progress.step(runner.iter + 1, runner.max_iters,
                              f"{self.name} epoch {runner.epoch + 1}/{runner.max_epochs}{last}")

        def after_train_epoch(self, runner) -> None:
            done = runner.epoch + 1  # mmengine counts the epoch up after this hook
            self._last_loss = sum(self._losses) / len(self._losses) if self._losses else None
            if not is_main_process():
                return
            elapsed = time.monotonic() - self._started
            eta = elapsed / (done - self._first_epoch) * (runner.max_epochs - done)
            loss = f" loss {self._last_loss:.3f}" if self._last_loss is not None else ""
            log.info("%s epoch %d/%d%s (%s, ETA %s)", self.name, done, runner.max_epochs, loss,
                     progress.duration(elapsed), progress.duration(eta))

        def after_val_epoch(self, runner, metrics=None) -> None:
            top1 = (metrics or {}).get("acc/top1")
            if top1 is not None and is_main_process():
                log.info("%s val epoch %d/%d top1 %.1f%%", self.name, runner.epoch,
                         runner.max_epochs, 100 * float(top1))

        # --- test (prediction) --------------------------------------------------------------
        def before_test(self, runner) -> None:
            cpu_share.adopt_freed_cpus()
            self._test_started = self._test_logged = time.monotonic()

        def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
            if not is_main_process():
                return
            total = len(runner.test_dataloader)
            progress.step(batch_idx + 1, total, f"{self.name} test")
            now = time.monotonic()
            if now - self._test_logged >= TEST_LOG_EVERY_S or (
                    batch_idx + 1 == total and now - self._test_started >= TEST_LOG_EVERY_S):
                self._test_logged = now
                elapsed = now - self._test_started
                eta = elapsed / (batch_idx + 1) * (total - batch_idx - 1)
                log.info("%s test batch %d/%d (%s, ETA %s)", self.name, batch_idx + 1, total,
                         progress.duration(elapsed), progress.duration(eta))

    HOOKS.register_module(name=HOOK_TYPE, module=BenchProgressHook, force=True)
    _registered = BenchProgressHook
    return _registered
