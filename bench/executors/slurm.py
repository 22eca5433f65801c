"""Slurm executor through submitit: runs with the same resources go out as one job array.

`cluster` (or $BENCH_SLURM_CLUSTER) picks submitit's backend: `slurm` (sbatch/sacct; the default),
`local` (one subprocess per job on this machine) or `debug` (in this process, one after another).
A multi-GPU run is one Slurm task holding all its GPUs and running torchrun inside.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import traceback
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

from bench.errors import BenchError
from bench.executors import Resources, missing_extra
from bench.executors.task import invoke

CLUSTERS = ("slurm", "local", "debug")
FORCED_CHECK_S = 10.0  # how often to ask sacct about jobs that died without a result file
STOP_WAIT_S = 10.0  # local backend: how long stop() waits for cancelled jobs' processes


def guarded_invoke(fn, args, kwargs, env, procs):
    """Never raises (submitit's debug backend would open pdb): errors come back as text.

    In a Slurm (or submitit local) job, SIGTERM ends the run at once: submitit ignores it
    (meant for jobs that checkpoint on preemption; a run does not), so a cancelled run would
    go on for Slurm's KillWait and could commit after the driver let go of the folder."""
    if os.environ.get("SUBMITIT_EXECUTOR") in ("slurm", "local") \
            and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        return True, invoke(fn, args, kwargs, env, procs)
    except BaseException:  # noqa: BLE001 - reported to the driver as the run's failure
        return False, traceback.format_exc()


class SlurmExecutor:
    name = "slurm"

    def __init__(self, workers: int = 1, log_dir: str | None = None, cluster: str | None = None,
                 partition: str | None = None, poll_s: float = 0.25,
                 cpus_per_run: int | None = None):  # cpus_per_run: per job, via Resources
        try:
            import submitit
        except ImportError:
            raise missing_extra("slurm", "submitit") from None
        self.cluster = cluster or os.environ.get("BENCH_SLURM_CLUSTER") or "slurm"
        if self.cluster not in CLUSTERS:
            raise BenchError(f"BENCH_SLURM_CLUSTER={self.cluster!r}: expected one of "
                             f"{', '.join(CLUSTERS)}")
        self.folder = Path(log_dir or os.environ.get("BENCH_SLURM_LOGS") or "bench-slurm-logs")
        self.partition = partition or os.environ.get("BENCH_SLURM_PARTITION")
        self.parallelism = max(1, int(workers))
        try:
            self._ex = submitit.AutoExecutor(folder=str(self.folder / "%j"), cluster=self.cluster)
        except RuntimeError as exc:  # no srun on PATH
            raise BenchError(f"slurm executor: {exc} (set BENCH_SLURM_CLUSTER=local to run "
                             f"the jobs on this machine)") from None
        self.poll_s = poll_s
        self._pending: list[tuple[object, Future]] = []  # submitted jobs
        self._queue: list[tuple[tuple, Future]] = []  # calls not submitted yet (local backend)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="bench-slurm-poll", daemon=True)
        self._poller.start()

    def describe(self) -> str:
        return f"slurm ({self.cluster} via submitit), logs in {self.folder}"

    def default_gpus(self) -> int:
        return 0

    def threads_for(self, resources: Resources) -> int:
        return resources.cpus

    def validate(self, requests: list[Resources]) -> None:
        if self.cluster == "local":
            from bench.executors.local import detect_gpus
            have = len(detect_gpus())
            for r in requests:
                if r.gpus > have:
                    raise BenchError(f"a run asks for {r.gpus} GPU(s) but this machine offers "
                                     f"{have} (BENCH_SLURM_CLUSTER=local)")

    def submit(self, fn, *args, resources: Resources = Resources(), **kwargs) -> Future:
        return self.submit_many([(fn, args, kwargs, resources)])[0]

    def submit_many(self, calls: list[tuple]) -> list[Future]:
        """Futures in the order of `calls`. On Slurm everything goes out at once, one job array
        per distinct resource request (Slurm throttles the array); submitit's local backend has
        no limit of its own, so there at most `workers` jobs run and the rest wait here."""
        futures = []
        with self._lock:
            for call in calls:
                future = Future()
                future.set_running_or_notify_cancel()
                self._queue.append((call, future))
                futures.append(future)
            self._launch_locked()
        return futures

    def _launch_locked(self) -> None:
        room = len(self._queue) if self.cluster == "slurm" else self.parallelism - len(self._pending)
        batch, self._queue = self._queue[:max(room, 0)], self._queue[max(room, 0):]
        groups: dict[Resources, list] = defaultdict(list)
        for call, future in batch:
            groups[call[3]].append((call, future))
        for resources, members in groups.items():
            self._ex.update_parameters(**self._parameters(resources))
            env = {"OMP_NUM_THREADS": resources.cpus}
            with self._ex.batch():
                jobs = [self._ex.submit(guarded_invoke, fn, args, kwargs, env, resources.procs)
                        for (fn, args, kwargs, _), _ in members]
            self._pending += [(job, future) for job, (_, future) in zip(jobs, members)]

    def _parameters(self, r: Resources) -> dict:
        params = {"timeout_min": r.timeout_min, "nodes": 1, "tasks_per_node": 1,
                  "gpus_per_node": r.gpus, "cpus_per_task": r.cpus, "name": "bench"}
        if r.mem_gb:
            params["mem_gb"] = r.mem_gb
        if self.cluster == "slurm":
            params["slurm_array_parallelism"] = self.parallelism
            if self.partition:
                params["slurm_partition"] = self.partition
        return params

    def _poll(self) -> None:
        last_forced = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                pending = list(self._pending)
            force = time.monotonic() - last_forced > FORCED_CHECK_S
            if force and pending:
                last_forced = time.monotonic()
            for n, (job, future) in enumerate(pending):
                # debug jobs run when asked for their result; the others once they are done
                if self.cluster != "debug" and not job.done(force_check=force and n == 0):
                    continue
                with self._lock:
                    self._pending.remove((job, future))
                try:
                    ok, value = job.result()
                except Exception as exc:  # the job died: killed, timed out, node failure
                    future.set_exception(RuntimeError(f"slurm job {job.job_id}: {exc}"))
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(RuntimeError(value))
            with self._lock:
                if self._queue:
                    self._launch_locked()
            self._stop.wait(self.poll_s)

    def stop(self) -> int:
        """Cancel every job not finished (SIGINT/SIGTERM to the driver, or an aborted sweep) and
        submit no other; returns how many there were. On Slurm one `scancel` names every job
        (an array by its id: that cancels its tasks still queued or running, finished ones are
        unaffected); submitit's local backend gets each job's cancel, then the job processes are
        waited for (killed after STOP_WAIT_S)."""
        self._stop.set()
        self._poller.join(timeout=5)
        with self._lock:
            left, self._pending = self._pending, []
            for _, future in self._queue:  # never submitted
                future.set_exception(RuntimeError("not submitted: the sweep stopped"))
            self._queue = []
        if self.cluster == "slurm" and left:
            ids = sorted({str(job.job_id).split("_")[0] for job, _ in left})
            try:
                subprocess.run(["scancel", *ids], capture_output=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                pass  # best effort: the jobs then end at their time limit
        elif left:
            for job, _ in left:
                try:
                    job.cancel(check=False)
                except Exception:  # noqa: BLE001 - already ended
                    pass
            self._wait_local([job for job, _ in left])
        for _, future in left:  # (running futures ignore cancel(): fail them instead)
            if not future.done():
                future.set_exception(RuntimeError("the job was cancelled: the sweep stopped"))
        return len(left)

    def _wait_local(self, jobs) -> None:
        procs = [p for p in (getattr(job, "_process", None) for job in jobs) if p is not None]
        deadline = time.monotonic() + STOP_WAIT_S
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def shutdown(self) -> None:
        """After a sweep: an interrupted one leaves no job queued or running on the cluster."""
        self.stop()
