"""The driver: skip finished runs, dispatch the rest to an executor, index results as they land."""
from __future__ import annotations

import sys
import time
from concurrent.futures import as_completed

from bench.specs import RunResult, RunSpec
from bench.store import Store


def say(msg: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable (its last line is the report)."""
    print(msg, file=sys.stderr, flush=True)


def execute_plan(specs: list[RunSpec], store: Store, data_arg: str, workers: int = 1,
                 retry_failed: bool = True) -> list[dict]:
    from bench.executors.local import LocalExecutor
    from bench.runner import execute_run

    unique = list({s.run_id: s for s in specs}.values())
    pending = [s for s in unique if not store.is_done(s.run_id)]
    say(f"{len(unique)} runs planned, {len(unique) - len(pending)} already done in {store.runs}")
    if pending:
        executor = LocalExecutor(workers)
        started = time.perf_counter()
        try:
            futures = {executor.submit(execute_run, s.to_dict(), str(store.out), data_arg,
                                       executor.threads_per_run): s for s in pending}
            for done, future in enumerate(as_completed(futures), 1):
                result = future.result()
                store.index(RunResult(**{**result, "spec": RunSpec.from_dict(result["spec"])}))
                elapsed = time.perf_counter() - started
                top1 = result["metrics"].get("top1")
                detail = f"top1={100 * top1:.1f}%" if top1 is not None else result["status"]
                say(f"[{done}/{len(pending)}] {result['run_id']} {detail} "
                    f"({elapsed:.0f}s elapsed)")
        finally:
            executor.shutdown()
    return [store.load_result(s.run_id) for s in unique]
