"""Local executor: one fresh process per run (clean mmengine/torch state), at most `workers` at a
time, and a GPU slot pool, so concurrent runs never share a GPU: each run sees only its own
devices through CUDA_VISIBLE_DEVICES.

Each run's process leads its own process group (with whatever it starts: torchrun, data loader
workers), so `stop()` can kill a run whole; it kills its group itself when the driver dies or
when it is sent SIGTERM, so no run outlives the driver and commits after the folder lock is gone.
A run whose process dies fails alone: the runs beside it go on. Once nothing is left to start,
the cores of finished runs go to the runs still going (bench/cpu_share.py).
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from bench import cpu_share
from bench.errors import BenchError
from bench.executors import Resources
from bench.executors.task import invoke

PARENT_POLL_S = 0.1  # how often a run's process checks that the driver is still there
STOP_WAIT_S = 10.0   # how long stop() waits for killed processes to be gone


def detect_gpus() -> list[str]:
    """GPU ids this machine offers: $CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists.
    No torch import: the driver stays light."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    listed = [line for line in out.stdout.splitlines() if line.startswith("GPU ")]
    return [str(i) for i in range(len(listed))]


class Stopped(RuntimeError):
    """The executor was stopped: a run not started, or started and killed."""


class WorkerDied(RuntimeError):
    """A run's process ended without a result (killed from outside, out of memory)."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a run's process (its __cause__ here)."""

    def __str__(self) -> str:
        return self.args[0]


class GpuSlots:
    """Hands out distinct GPU ids; take() blocks until enough are free (or the pool closes)."""

    def __init__(self, ids: list[str]):
        self.free = list(ids)
        self.total = len(ids)
        self.closed = False
        self._cond = threading.Condition()

    def take(self, n: int) -> list[str]:
        if n > self.total:
            raise BenchError(f"a run asks for {n} GPUs but this machine has {self.total}")
        with self._cond:
            self._cond.wait_for(lambda: self.closed or len(self.free) >= n)
            if self.closed:
                raise Stopped("the executor stopped before this run started")
            taken, self.free = self.free[:n], self.free[n:]
            return taken

    def give_back(self, ids: list[str]) -> None:
        with self._cond:
            self.free.extend(ids)
            self._cond.notify_all()

    def close(self) -> None:
        """Wake every waiting take(): it raises Stopped (nothing waits forever at exit)."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1, gpu_ids: list[str] | None = None,
                 cpus_per_run: int | None = None, log_dir: str | None = None):
        self.workers = max(1, int(workers))
        self.gpus = GpuSlots(detect_gpus() if gpu_ids is None else [str(g) for g in gpu_ids])
        # Share the cores between concurrent runs instead of oversubscribing them; an explicit
        # --cpus-per-run, then OMP_NUM_THREADS (tests, shared machines) win.
        chosen = cpus_per_run or int(os.environ.get("OMP_NUM_THREADS") or 0)
        self.cpus = cpu_share.available_cpus()
        self.threads_per_run = chosen or max(1, self.cpus // self.workers)
        # the tail of a sweep: idle cores go to the runs still going, unless threads were chosen
        self._share_dir = None if chosen else tempfile.mkdtemp(prefix="bench-threads-")
        self._lock = threading.Lock()  # guards _live, _pending and _stopping
        self._live: dict[int, multiprocessing.Process] = {}
        self._shares: dict[int, str] = {}  # pid -> its share file
        self._pending = 0  # submitted, not started yet
        self._stopping = False
        # One dispatcher thread per worker: it waits for GPU slots, then runs its process.
        self._dispatch = ThreadPoolExecutor(self.workers, thread_name_prefix="bench-dispatch")

    def describe(self) -> str:
        gpus = f"GPUs {','.join(self.gpus.free)}" if self.gpus.total else "no GPU"
        return f"local: {self.workers} worker(s), {gpus}"

    def default_gpus(self) -> int:
        return 1 if self.gpus.total else 0

    def threads_for(self, resources: Resources) -> int:
        return self.threads_per_run

    def validate(self, requests: list[Resources]) -> None:
        for r in requests:
            if r.gpus > self.gpus.total:
                raise BenchError(f"a run asks for {r.gpus} GPU(s) but this machine offers "
                                 f"{self.gpus.total} (CUDA_VISIBLE_DEVICES / nvidia-smi)")

    def submit(self, fn, *args, resources: Resources = Resources(), **kwargs) -> Future:
        self.validate([resources])
        with self._lock:
            self._pending += 1
        return self._dispatch.submit(self._run, fn, args, kwargs, resources)

    def submit_many(self, calls: list[tuple]) -> list[Future]:
        return [self.submit(fn, *args, resources=r, **kw) for fn, args, kw, r in calls]

    def _run(self, fn, args, kwargs, resources: Resources):
        with self._lock:
            self._pending -= 1
        ids = self.gpus.take(resources.gpus) if resources.gpus else []
        env = {"OMP_NUM_THREADS": self.threads_per_run}
        if self._share_dir and resources.procs <= 1 and not resources.gpus:
            env[cpu_share.ENV] = os.path.join(self._share_dir, f"{uuid.uuid4().hex}.threads")
        if self.gpus.total:  # a CPU-only run on a GPU machine must not grab GPU 0 by default
            env["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
        try:
            return self._in_process((fn, args, kwargs, env, resources.procs))
        finally:
            if ids:
                self.gpus.give_back(ids)

    def _in_process(self, call: tuple):
        """Run `call` in a fresh process and return its value (or raise its exception)."""
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_process_main, args=(sender, call, os.getpid()), daemon=False)
        with self._lock:
            if self._stopping:
                raise Stopped("the executor stopped before this run started")
            proc.start()
            self._live[proc.pid] = proc
            if cpu_share.ENV in call[3]:
                self._shares[proc.pid] = call[3][cpu_share.ENV]
        sender.close()  # the child holds the only writer: EOF here means it died
        try:
            try:
                ok, value, remote_tb = receiver.recv()
            except EOFError:
                proc.join()
                raise WorkerDied(f"the run's process {proc.pid} {_how_it_ended(proc.exitcode)} "
                                 f"before returning a result") from None
            proc.join()
            if ok:
                return value
            raise value from RemoteTraceback(remote_tb)
        finally:
            receiver.close()
            with self._lock:
                self._live.pop(proc.pid, None)
                self._shares.pop(proc.pid, None)
                self._share_idle_cpus()

    def _share_idle_cpus(self) -> None:
        """(Under the lock, after a run ended.) With nothing left to start, split the cores
        between the runs still going; each adopts its share at its next step."""
        if self._pending or self._stopping or not self._shares:
            return
        threads = max(self.threads_per_run, self.cpus // len(self._live))
        if threads > self.threads_per_run:
            for path in self._shares.values():
                cpu_share.write_share(path, threads)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._live)

    def stop(self) -> int:
        """Kill every running run (its whole process group) and start no other; returns how
        many were running. Returns once they are gone, so none can commit afterwards."""
        with self._lock:
            self._stopping = True
            procs = list(self._live.values())
        self.gpus.close()
        self._dispatch.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            _kill_group(proc.pid)
        if procs:  # (wait() on no objects would sleep the whole timeout)
            multiprocessing.connection.wait([p.sentinel for p in procs], timeout=STOP_WAIT_S)
        return len(procs)

    def shutdown(self) -> None:
        """After a sweep: nothing is running any more; an interrupted one is stopped."""
        self.stop()
        if self._share_dir:
            shutil.rmtree(self._share_dir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):  # the group; the process itself if it has none yet
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def _process_main(sender, call: tuple, driver_pid: int) -> None:
    """A run's process: its own process group, gone with the driver, the result sent back."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C stops
    signal.signal(signal.SIGTERM, _terminate_group)
    _follow_driver(driver_pid)
    try:
        reply = (True, invoke(*call), None)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the driver
        reply = (False, exc, traceback.format_exc())
    try:
        sender.send(reply)
    except Exception:  # noqa: BLE001 - an exception that does not pickle: its text instead
        sender.send((False, RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}"), reply[2]))
    sender.close()


def _terminate_group(signum, frame) -> None:
    """SIGTERM to a run: it and everything it started (torchrun ranks, loaders) end with it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(0, signal.SIGTERM)


def _follow_driver(driver_pid: int) -> None:
    """When the driver dies (SIGKILL, crash), kill this run's group: an orphan must not commit."""
    def watch():
        import time

        while os.getppid() == driver_pid:
            time.sleep(PARENT_POLL_S)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="bench-follow-driver", daemon=True).start()
