"""The driver: plan -> skip finished runs -> executor -> index results as they land.

Only the driver writes the index, and it holds a lock on the output folder while it runs. At
start it removes what killed runs left behind, quarantines run folders it cannot trust (they are
redone) and indexes any run that was committed but not indexed, so a sweep killed at any moment
resumes with exactly one result per run id.

SIGTERM or SIGINT to the driver stops it: the runs in flight are killed (and waited for) before
the folder lock is let go, one line says so, and the CLI exits 128 + the signal's number.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, wait

from bench.cpu_share import available_cpus
from bench.executors import Resources
from bench.progress import SweepProgress, read_steps
from bench.specs import RunResult, RunSpec
from bench.store import Store, result_from_dict

POLL_S = 0.5  # how often the live display reads the running runs' step counters
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """The driver got SIGINT or SIGTERM; the CLI exits 128 + signum. A KeyboardInterrupt, so no
    `except Exception` on the way up swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals():
    """SIGINT and SIGTERM raise Stopped in the main thread while the sweep runs (elsewhere, e.g.
    a driver called from a thread, the handlers cannot be set and are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_stopped) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def say(msg: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable (its last line is the report)."""
    print(msg, file=sys.stderr, flush=True)


def unique_specs(specs: list[RunSpec]) -> list[RunSpec]:
    return list({s.run_id: s for s in specs}.values())


def plan_lines(specs: list[RunSpec], store: Store, axes: tuple[str, ...] = ()) -> list[str]:
    """`--dry-run`: one line per planned run (id, method, seed, swept values, state), then a count."""
    from bench.ablations import config_value

    lines, counts = [], {"done": 0, "failed": 0, "pending": 0}
    for s in unique_specs(specs):
        state = store.status(s.run_id) or "pending"
        counts[state] = counts.get(state, 0) + 1
        knobs = " ".join(f"{a}={config_value(s.config, a)}" for a in axes)
        lines.append("\t".join(x for x in (s.run_id, s.method, f"seed={s.seed}", s.profile, knobs,
                                           state) if x))
    lines.append(f"# {len(lines)} runs: {counts['done']} done, {counts['failed']} failed, "
                 f"{counts['pending']} pending")
    limits = sorted({s.data.limit for s in specs if s.data.limit})
    if limits:  # a profile's own limit (quick) applies without --limit being typed
        lines.append(f"# --limit {', '.join(map(str, limits))}: test samples capped per class")
    return lines


def execute_plan(specs: list[RunSpec], store: Store, workers: int | str = 1,
                 retry_failed: bool = False, executor: str | None = None,
                 resources: Resources | dict | None = None, live: bool | None = None,
                 executor_options: dict | None = None, track=()) -> list[dict]:
    """Run what is not finished yet; failed runs are kept (and listed) unless retry_failed.
    Each run reads its data from its spec (spec.data: where the data is now). `workers`:
    a number, or "auto" (see auto_workers); `track`: bench.tracking trackers for every run."""
    unique = unique_specs(specs)
    with stop_on_signals(), store.driver_lock():
        store.clean_scratch()
        store.heal(deep_ids={s.run_id for s in unique}, say=say)  # damaged runs: redone
        if store.reconcile_index():
            say("index: recorded runs that finished after the last driver stopped")
        states = {s.run_id: store.status(s.run_id) for s in unique}
        failed = [i for i, st in states.items() if st == "failed"]
        pending = [s for s in unique if states[s.run_id] is None
                   or (retry_failed and states[s.run_id] == "failed")]
        done = sum(st == "done" for st in states.values())
        note = ""
        if failed:
            note = (f", {len(failed)} failed earlier"
                    + (" (retrying)" if retry_failed else " (kept; rerun them with --retry-failed)"))
        say(f"{len(unique)} runs planned, {done} already done{note} in {store.runs}")
        if pending:
            _dispatch(pending, store, workers, executor, resources, live,
                      executor_options or {}, tuple(track or ()))
    results = [store.load_result(s.run_id) for s in unique if store.status(s.run_id)]
    _list_failures(results, store)
    return results


def _dispatch(pending, store, workers, executor_name, resources, live, options, track=()):
    from bench.executors import make_executor
    from bench.runner import execute_run

    given = resources if isinstance(resources, Resources) else None
    cpus = given.cpus if given else (resources or {}).get("cpus")
    gpus = given.gpus if given else (resources or {}).get("gpus")
    workers, why = _workers_for(workers, len(pending), executor_name, cpus, gpus, options)
    executor = make_executor(executor_name, workers=workers, cpus_per_run=cpus, **options)
    try:
        resources = _resolve_resources(resources, executor)
        executor.validate([resources])
        threads = executor.threads_for(resources)
        say(f"{executor.describe()}{why}; each run: {used_resources(resources, threads)}")
        kwargs = {"track": list(track)} if track else {}
        calls = [(execute_run, (s.to_dict(), str(store.out), threads), kwargs, resources)
                 for s in pending]
        futures = dict(zip(executor.submit_many(calls), pending))
        progress = SweepProgress(len(pending), live=live, workers=workers,
                                 methods={s.run_id: s.method for s in pending})
        waiting = set(futures)
        while waiting:
            landed, waiting = wait(waiting, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in landed:
                result = _landed(future, futures[future], store)
                store.index(result_from_dict(result))
                (store.progress_dir / f"{result['run_id']}.json").unlink(missing_ok=True)
                progress.finished(result)
            steps = read_steps(store.progress_dir)
            progress.update({futures[f].run_id: steps[futures[f].run_id] for f in waiting
                             if futures[f].run_id in steps})
        progress.close()
    except Stopped as exc:
        stopped = _stop(executor)  # before the lock goes: no run may commit after it
        runs = "1 run in flight was" if stopped == 1 else f"{stopped} runs in flight were"
        say(f"stopping: {runs} stopped; rerun the same command to resume")
        exc.reported = True
        raise
    finally:
        executor.shutdown()


def _stop(executor) -> int:
    """Kill the runs in flight and wait for them. Further signals are ignored meanwhile (the kill
    is under way; stop_on_signals restores the handlers), so no worker outlives the driver."""
    if threading.current_thread() is threading.main_thread():
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
    stop = getattr(executor, "stop", None)
    if stop is not None:
        return stop()
    executor.shutdown()
    return 0


def auto_workers(runs: int, cpus_per_run: int | None = None, gpus_per_run: int | None = None,
                 cpus: int | None = None, gpus: int | None = None) -> tuple[int, str]:
    """How many runs fit at once: the CPUs over each run's threads (--cpus-per-run, else
    $OMP_NUM_THREADS, else 1), and the GPUs over each run's (one by default where there are
    GPUs), never more than the runs planned. Returns (workers, how it was worked out)."""
    cpus = available_cpus() if cpus is None else cpus
    if gpus is None:
        from bench.executors.local import detect_gpus

        gpus = len(detect_gpus())
    per_run = cpus_per_run or int(os.environ.get("OMP_NUM_THREADS") or 0) or 1
    fit = max(1, cpus // per_run)
    why = f"{cpus} CPUs / {per_run} thread(s) per run"
    gpus_per_run = (1 if gpus else 0) if gpus_per_run is None else gpus_per_run
    if gpus_per_run:
        fit = min(fit, max(1, gpus // gpus_per_run))
        why += f", {gpus} GPU(s) / {gpus_per_run} per run"
    return max(1, min(fit, runs)), f"{why}, {runs} run(s)"


def _workers_for(workers, runs, executor_name, cpus_per_run, gpus_per_run, options):
    """(workers, note for the printed line): a number as given; "auto" resolved for where the
    runs go: this machine's CPUs/GPUs (local, a private Ray instance), else every run at once
    (Slurm, a Ray cluster: their schedulers place them)."""
    if workers != "auto":
        return max(1, int(workers)), ""
    name = executor_name or os.environ.get("BENCH_EXECUTOR") or "local"
    remote = name == "slurm" or (name == "ray" and (options.get("address")
                                                    or os.environ.get("RAY_ADDRESS")))
    if remote:
        return max(1, runs), f" (--workers auto: {runs} run(s), the scheduler places them)"
    n, why = auto_workers(runs, cpus_per_run, gpus_per_run)
    return n, f" (--workers auto: {why})"


def used_resources(resources: Resources, threads: int) -> str:
    """What a run uses: the threads the executor gives it (the local executor shares the cores
    between its workers), with the GPUs and processes it asked for."""
    parts = [f"{threads} CPU thread(s)"] + ([f"{resources.gpus} GPU"] if resources.gpus else [])
    return ", ".join(parts + ([f"{resources.procs} procs"] if resources.procs > 1 else []))


def _resolve_resources(resources, executor) -> Resources:
    """A Resources as is; a dict of what the user gave (--cpus-per-run, ...) completed with the
    executor's defaults: one GPU per run where GPUs exist, one process per GPU."""
    if isinstance(resources, Resources):
        return resources
    given = {k: v for k, v in (resources or {}).items() if v is not None}
    given.setdefault("gpus", executor.default_gpus())
    given.setdefault("procs", given["gpus"] if given["gpus"] > 1 else 1)
    return Resources(**given)


def _landed(future, spec: RunSpec, store: Store) -> dict:
    """The run's stored result; a run the executor lost (worker killed, job failed) is recorded
    here as failed with the executor's error, so the sweep goes on and the report lists it."""
    try:
        future.result()
        return store.load_result(spec.run_id)  # what is on disk (a first writer may have won)
    except Exception as exc:  # noqa: BLE001 - any executor failure becomes a failed run
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        result = RunResult(spec.run_id, spec, "failed", timings={"failed_at": time.time()},
                           error=error)
        store.commit(store.staging_dir(spec.run_id), result, None)
        return store.load_result(spec.run_id)


def _list_failures(results: list[dict], store: Store) -> None:
    failed = [r for r in results if r["status"] != "done"]
    for r in failed:
        last = (r.get("error") or "").strip().splitlines()[:1] or ["no error recorded"]
        say(f"failed: {r['run_id']}: {last[0]} (traceback in {store.run_dir(r['run_id'])}"
            f"/result.json)")
    if failed:
        say(f"{len(failed)} run(s) failed; rerun only those with --retry-failed")
