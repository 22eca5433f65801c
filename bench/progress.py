"""Progress of a sweep: runs report their steps into small files, the driver draws them.

On a terminal the driver keeps a live block on stderr (a sweep bar with runs done/total, ETA,
failures and stage-cache hits, and one bar per running run); otherwise it prints one plain line
per finished run. A run calls `step(i, n, label)`; it costs nothing when no sink is set.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

_sink: Path | None = None
_last_write = 0.0
WRITE_EVERY_S = 0.5  # a run's step file is rewritten at most this often


def set_sink(path: Path | None) -> None:
    """Where this process's run writes its steps (set by the runner, cleared after the run)."""
    global _sink, _last_write
    _sink, _last_write = (Path(path) if path else None), 0.0


def step(done: int, total: int, label: str = "") -> None:
    global _last_write
    now = time.monotonic()
    if _sink is None or (now - _last_write < WRITE_EVERY_S and done < total):
        return
    _last_write = now
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
    """The driver's view of a sweep of `total` runs to execute now."""

    def __init__(self, total: int, stream=None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = _isatty(self.stream) if live is None else live
        self.total, self.done, self.failed, self.hits = total, 0, 0, 0
        self.started = time.monotonic()
        self._drawn = 0  # lines of the live block currently on screen
        self._running: dict[str, dict] = {}

    def eta(self) -> float | None:
        if not self.done:
            return None
        return (time.monotonic() - self.started) / self.done * (self.total - self.done)

    def summary(self) -> str:
        eta = self.eta()
        parts = [f"{self.done}/{self.total} runs", f"{duration(time.monotonic() - self.started)} "
                 "elapsed"]
        if self.done < self.total:
            parts.append(f"ETA {duration(eta)}" if eta is not None else "ETA ?")
        parts.append(f"{self.hits} cache hit{'s' if self.hits != 1 else ''}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)

    def finished(self, result: dict) -> None:
        """A run landed (done or failed): one permanent line, then the live block again."""
        self.done += 1
        self.failed += result.get("status") != "done"
        self.hits += cache_hits(result)
        self._running.pop(result.get("run_id"), None)
        top1 = (result.get("metrics") or {}).get("top1")
        detail = f"top1={100 * top1:.1f}%" if top1 is not None else result.get("status", "?")
        hit = " (stage cache hit)" if cache_hits(result) else ""
        self._clear()
        self._write(f"[{self.done}/{self.total}] {result.get('run_id')} {detail}{hit}; "
                    f"{self.summary()}\n")
        self._draw()

    def update(self, running: dict[str, dict]) -> None:
        """Step counters of the runs in flight (from read_steps); redraws the live block."""
        self._running = dict(running)
        if self.live:
            self._clear()
            self._draw()

    def close(self) -> None:
        self._clear()

    def _draw(self) -> None:
        if not self.live or self.done >= self.total:
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        lines = [f"sweep {bar(self.done, self.total)} {self.summary()}"]
        for run_id, s in sorted(self._running.items()):
            total = max(int(s.get("total") or 0), 1)
            lines.append(f"  {run_id} {s.get('label', '')} {bar(s.get('done', 0), total, 12)} "
                         f"{s.get('done', 0)}/{total}")
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
