"""Progress of a sweep: runs report their steps into small files, the driver draws them.

On a terminal the driver keeps a live block on stderr (a sweep bar with runs done/total, ETA,
failures and stage-cache hits, and one bar per running run); otherwise it prints one plain line
per finished run and, every PLAIN_EVERY_S while runs are in flight, one line with their steps.
A run calls `step(i, n, label)`; it costs nothing when no sink is set.

The ETA comes from what the runs report: a running run's rate over its current stage (steps of
the same label and total), the durations of finished runs of the same method, and the number of
workers the runs are spread over (see `SweepProgress.eta`). Until a run of its method has
finished, a run's later stages are unknown (LVLM-VAR's VST epochs say nothing of its LoRA
steps), so an ETA resting on a current stage alone is a lower bound, printed `ETA >24m21s`.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

SINK_ENV = "BENCH_PROGRESS_FILE"  # processes a run starts (torchrun ranks) report there too
_sink: Path | None = Path(os.environ[SINK_ENV]) if os.environ.get(SINK_ENV) else None
_last_write = 0.0
_last_label = ""
WRITE_EVERY_S = 0.5  # a run's step file is rewritten at most this often
PLAIN_EVERY_S = 60.0  # not on a terminal: one line on the runs in flight at most this often
MIN_STAGE_S = 2.0  # a stage's rate is trusted once it has run this long
# Third-party progress bars (tqdm: Hugging Face downloads, checkpoint shards) write carriage
# returns to the run's stderr, which is the driver's: a log file under nohup, or right across the
# live block on a terminal. The driver shows each run's steps instead; the user's settings win.
QUIET_BARS = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def set_sink(path: Path | None) -> None:
    """Where this process's run writes its steps (set by the runner, cleared after the run)."""
    global _sink, _last_write, _last_label
    _sink, _last_write, _last_label = (Path(path) if path else None), 0.0, ""
    if _sink is None:
        os.environ.pop(SINK_ENV, None)
    else:
        os.environ[SINK_ENV] = str(_sink)


def quiet_third_party_bars() -> None:
    """In a run's process: no tqdm bars from the libraries (see QUIET_BARS)."""
    for key, value in QUIET_BARS.items():
        os.environ.setdefault(key, value)
    if os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] not in ("0", "false", "False", ""):
        hub = sys.modules.get("huggingface_hub.utils")  # imported already: env was read then
        if hub is not None:
            hub.disable_progress_bars()
        transformers = sys.modules.get("transformers.utils.logging")
        if transformers is not None:
            transformers.disable_progress_bar()


def step(done: int, total: int, label: str = "") -> None:
    """A run is at step `done` of `total` of its stage `label`; a new stage is written at once
    (so the display never shows a finished stage while a silent one runs)."""
    global _last_write, _last_label
    now = time.monotonic()
    if _sink is None or (now - _last_write < WRITE_EVERY_S and done < total
                         and label == _last_label):
        return
    _last_write, _last_label = now, label
    try:
        _sink.parent.mkdir(parents=True, exist_ok=True)
        tmp = _sink.with_name(f".{_sink.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"done": done, "total": total, "label": label}))
        os.replace(tmp, _sink)
    except OSError:
        pass  # progress is best effort; never fail a run over it


def read_steps(progress_dir: Path) -> dict[str, dict]:
    """run_id -> {"done", "total", "label"} for every run that reported a step."""
    steps = {}
    if progress_dir.is_dir():
        for p in progress_dir.glob("*.json"):
            try:
                steps[p.stem] = json.loads(p.read_text())
            except (OSError, ValueError):
                continue  # being replaced right now
    return steps


def cache_hits(result: dict) -> int:
    """Stages a run reused from the cache: its metrics named *_cache_hit (e.g. vst_cache_hit)."""
    return sum(1 for k, v in (result.get("metrics") or {}).items()
               if k.endswith("_cache_hit") and v)


def bar(done: float, total: float, width: int = 20) -> str:
    filled = int(round(width * done / total)) if total else width
    return "[" + "#" * filled + "." * (width - filled) + "]"


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class SweepProgress:
    """The driver's view of a sweep of `total` runs to execute now, `workers` at a time;
    `methods` (run_id -> method) lets the ETA use finished runs of the same method."""

    def __init__(self, total: int, stream=None, live: bool | None = None, workers: int = 1,
                 methods: dict[str, str] | None = None):
        self.stream = stream or sys.stderr
        self.live = _isatty(self.stream) if live is None else live
        self.total, self.done, self.failed, self.hits = total, 0, 0, 0
        self.workers = max(1, int(workers))
        self.methods = dict(methods or {})
        self.started = self._last_plain = time.monotonic()
        self._drawn = 0  # lines of the live block currently on screen
        self._running: dict[str, dict] = {}
        self._seen: dict[str, dict] = {}  # run_id -> when the driver saw it start, its stage
        self._finished: set[str] = set()
        self._durations: list[tuple[str | None, float]] = []  # (method, s) of finished runs

    # --- estimates ------------------------------------------------------------------------
    def _observe(self, run_id: str, s: dict, now: float) -> None:
        """A stage is a run of steps with the same label word and total (epochs of one
        training, LoRA steps); its rate is measured from when the driver saw it begin."""
        seen = self._seen.setdefault(run_id, {"since": now})
        done, total = int(s.get("done") or 0), int(s.get("total") or 0)
        key = (str(s.get("label") or "").split(" ", 1)[0], total)
        if seen.get("key") != key or done < seen.get("done", 0):
            seen.update(key=key, stage_since=now, stage_done0=done)
        seen.update(done=done, total=total)

    def _typical(self, method: str | None) -> float | None:
        same = [d for m, d in self._durations if m == method and method is not None]
        return sum(same) / len(same) if same else None

    def run_eta(self, run_id: str, now: float | None = None) -> float | None:
        """Seconds a running run still needs: its current stage's rate, at least what is left
        of the typical duration of its method (its later stages are not reported yet)."""
        now = time.monotonic() if now is None else now
        seen = self._seen.get(run_id)
        if seen is None:
            return None
        stage = None
        moved, spent = seen["done"] - seen["stage_done0"], now - seen["stage_since"]
        if moved > 0 and spent >= MIN_STAGE_S:
            stage = spent / moved * max(seen["total"] - seen["done"], 0)
        typical = self._typical(self.methods.get(run_id))
        if typical is not None:
            return max(typical - (now - seen["since"]), stage or 0.0)
        return stage

    def eta(self) -> float | None:
        """Seconds until the sweep ends: each running run's remaining time and each waiting
        run's expected duration (same method's finished runs, else any run's), laid out on the
        workers as they free up. None while a running run has no estimate yet."""
        if self.done >= self.total:
            return 0.0
        now = time.monotonic()
        running = [r for r in self._running if r not in self._finished]
        left = {r: self.run_eta(r, now) for r in running}
        waiting_ids = [r for r in self.methods if r not in self._finished and r not in left]
        waiting = [self._typical(self.methods[r]) for r in waiting_ids]
        waiting += [None] * max(0, self.total - self.done - len(running) - len(waiting))
        # A waiting run of a method not seen yet: like the runs seen so far. A running one
        # stays unknown until its stage moves (another method's duration says nothing of it).
        known = [d for _, d in self._durations] or [
            (now - self._seen[r]["since"]) + t for r, t in left.items() if t is not None]
        fallback = sum(known) / len(known) if known else None
        waiting = [fallback if w is None else w for w in waiting]
        if any(t is None for t in left.values()) or any(w is None for w in waiting):
            return None
        free = sorted(list(left.values()) + [0.0] * max(0, self.workers - len(left)))
        for w in waiting:  # each waiting run starts on the first worker to free up
            free[0] += w
            free.sort()
        return max(free, default=0.0)

    def _floor(self, run_ids) -> bool:
        """True when one of these running runs is timed by its current stage alone."""
        return any(self._typical(self.methods.get(r)) is None for r in run_ids)

    def _eta_text(self, eta: float | None, floor: bool) -> str:
        return "ETA ?" if eta is None else f"ETA {'>' if floor else ''}{duration(eta)}"

    def summary(self) -> str:
        eta = self.eta()
        parts = [f"{self.done}/{self.total} runs", f"{duration(time.monotonic() - self.started)} "
                 "elapsed"]
        if self.done < self.total:
            parts.append(self._eta_text(eta, self._floor(
                r for r in self._running if r not in self._finished)))
        parts.append(f"{self.hits} cache hit{'s' if self.hits != 1 else ''}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)

    # --- events ---------------------------------------------------------------------------
    def finished(self, result: dict) -> None:
        """A run landed (done or failed): one permanent line, then the live block again."""
        run_id = result.get("run_id")
        self.done += 1
        self.failed += result.get("status") != "done"
        self.hits += cache_hits(result)
        self._running.pop(run_id, None)
        self._finished.add(run_id)
        seen = self._seen.pop(run_id, None)
        if result.get("status") == "done":  # a failure says nothing about how long runs take
            timings = result.get("timings") or {}
            took = (time.monotonic() - seen["since"]) if seen else sum(
                v for k, v in timings.items() if k in ("data_s", "fit_s", "predict_s"))
            method = self.methods.get(run_id) or (result.get("spec") or {}).get("method")
            if seen or timings:
                self._durations.append((method, took))
        top1 = (result.get("metrics") or {}).get("top1")
        detail = f"top1={100 * top1:.1f}%" if top1 is not None else result.get("status", "?")
        hit = " (stage cache hit)" if cache_hits(result) else ""
        self._clear()
        self._write(f"[{self.done}/{self.total}] {run_id} {detail}{hit}; "
                    f"{self.summary()}\n")
        self._draw()

    def update(self, running: dict[str, dict]) -> None:
        """Step counters of the runs in flight (from read_steps); redraws the live block, or
        (not on a terminal) writes one plain line on them every PLAIN_EVERY_S."""
        now = time.monotonic()
        self._running = {r: s for r, s in running.items() if r not in self._finished}
        for run_id, s in self._running.items():
            self._observe(run_id, s, now)
        if self.live:
            self._clear()
            self._draw()
        elif self._running and now - self._last_plain >= PLAIN_EVERY_S:
            self._last_plain = now
            runs = " | ".join(self._run_line(r, s, now) for r, s in sorted(self._running.items()))
            self._write(f"progress: {self.summary()} | {runs}\n")

    def close(self) -> None:
        self._clear()

    # --- drawing --------------------------------------------------------------------------
    def _run_line(self, run_id: str, s: dict, now: float, width: int = 0) -> str:
        total = max(int(s.get("total") or 0), 1)
        eta = self.run_eta(run_id, now)
        tail = f" {self._eta_text(eta, self._floor([run_id]))}" if eta is not None else ""
        bar_text = f" {bar(s.get('done', 0), total, width)}" if width else ""
        return f"{run_id} {s.get('label', '')}{bar_text} {s.get('done', 0)}/{total}{tail}"

    def _draw(self) -> None:
        if not self.live or self.done >= self.total:
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        now = time.monotonic()
        lines = [f"sweep {bar(self.done, self.total)} {self.summary()}"]
        for run_id, s in sorted(self._running.items()):
            lines.append("  " + self._run_line(run_id, s, now, width=12))
        self._write("".join(line[:width] + "\n" for line in lines))
        self._drawn = len(lines)

    def _clear(self) -> None:
        if self.live and self._drawn:
            self._write(f"\x1b[{self._drawn}F\x1b[J")  # cursor up to the block's start, erase
            self._drawn = 0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
