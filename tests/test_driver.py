"""Planning grids, the driver's store bookkeeping, and the progress display (all in-process)."""
import io
import json
import os
from types import SimpleNamespace

import pytest

from bench.ablations import resolve_sweep
from bench.driver import plan_lines
from bench.errors import BenchError
from bench.plan import plan_sweep
from bench.progress import SweepProgress, read_steps, set_sink, step
from bench.specs import DataRef, RunResult, RunSpec
from bench.store import Store
from bench.suites import SUITES

SOURCE = SimpleNamespace(suite=SUITES.get("mini-xsub"),
                         ref=DataRef("synthetic", digest="x"),
                         manifest=SimpleNamespace(sha256="ab" * 32))


def _spec(seed=0, tag=0):
    return RunSpec(suite="mini-xsub", method="noop", config={"tag": tag}, seed=seed,
                   manifest_sha256="ab" * 32, profile="smoke", data="synthetic:x")


def test_multi_axis_grid_is_the_cartesian_product_times_seeds():
    sweep = resolve_sweep("vst.codebook,lora.rank")
    assert sweep.config_keys == ("vst.codebook", "lora.rank") and sweep.method == "lvlm_var"
    assert sweep.grids("smoke") == [[8, 16, 32], [2, 4, 8]]
    # a profile without a grid of its own takes the next longer budget's (quick: cpu's)
    assert sweep.grids("quick") == sweep.grids("cpu") != sweep.grids("paper")
    grids = sweep.grids("smoke", "8,16;2,4")
    specs = plan_sweep(SOURCE, sweep, grids, "smoke", [0, 1, 2])
    assert len(specs) == 2 * 2 * 3 == len({s.run_id for s in specs})
    combos = {(s.config["vst.codebook"], s.config["lora.rank"], s.seed) for s in specs}
    assert combos == {(c, r, s) for c in (8, 16) for r in (2, 4) for s in (0, 1, 2)}


def test_sweep_errors_are_one_line():
    cases = {"vst.codebok": "did you mean 'vst.codebook'",
             "vst.codebook,knn.frames": "different methods",
             "knn.frames": "give its values with --values"}
    for text, message in cases.items():
        with pytest.raises(BenchError, match=message) as err:
            resolve_sweep(text).grids("smoke")
        assert "\n" not in str(err.value)
    with pytest.raises(BenchError, match="1 group.s. for 2 axes"):
        resolve_sweep("vst.codebook,lora.rank").grids("smoke", "8,16")
    with pytest.raises(BenchError, match="no key 'nope'"):
        plan_sweep(SOURCE, resolve_sweep("knn.nope"), [[1]], "smoke", [0])


def test_ad_hoc_axis_sweeps_any_config_key():
    sweep = resolve_sweep("knn.frames")
    specs = plan_sweep(SOURCE, sweep, sweep.grids("smoke", "16,32"), "smoke", [0])
    assert [s.config["frames"] for s in specs] == [16, 32] and specs[0].method == "knn"


def test_dry_run_lines_show_ids_values_and_state(tmp_path):
    store = Store(tmp_path)
    a, b, c = _spec(tag=1), _spec(tag=2), _spec(tag=3)
    store.commit(store.staging_dir(a.run_id), RunResult(a.run_id, a, "done", {"top1": 0.5}), None)
    store.commit(store.staging_dir(b.run_id), RunResult(b.run_id, b, "failed"), None)
    lines = plan_lines([a, b, c, c], store, ("tag",))
    assert lines[:3] == [f"{a.run_id}\tnoop\tseed=0\tsmoke\ttag=1\tdone",
                         f"{b.run_id}\tnoop\tseed=0\tsmoke\ttag=2\tfailed",
                         f"{c.run_id}\tnoop\tseed=0\tsmoke\ttag=3\tpending"]
    assert lines[3] == "# 3 runs: 1 done, 1 failed, 1 pending"


def test_commit_keeps_the_first_finished_result_and_replaces_a_failed_one(tmp_path):
    store, spec = Store(tmp_path), _spec()
    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "failed"), None)
    assert store.status(spec.run_id) == "failed"
    first = RunResult(spec.run_id, spec, "done", {"top1": 0.25})
    store.commit(store.staging_dir(spec.run_id), first, None)
    store.commit(store.staging_dir(spec.run_id), RunResult(spec.run_id, spec, "done",
                                                           {"top1": 0.75}), None)
    assert store.load_result(spec.run_id)["metrics"]["top1"] == 0.25
    assert [p.name for p in store.runs.iterdir()] == [spec.run_id]  # nothing left beside it


def test_reconcile_indexes_committed_runs_and_cleans_what_kills_left(tmp_path):
    store = Store(tmp_path)
    specs = [_spec(seed=s) for s in range(3)]
    for s in specs:  # committed, but the driver died before indexing them
        store.commit(store.staging_dir(s.run_id), RunResult(s.run_id, s, "done"), None)
    store.index(RunResult(specs[0].run_id, specs[0], "done"))
    (store.runs / ".staging-x-123").mkdir()
    (store.runs / ".staging-x-123" / "result.json").write_text("{trunc")
    store.progress_dir.mkdir()
    assert store.reconcile_index() == 2 and store.reconcile_index() == 0
    assert store.indexed() == {s.run_id: "done" for s in specs}
    assert store.clean_scratch() == 1 and store.run_ids() == sorted(s.run_id for s in specs)
    assert not store.progress_dir.exists()


def test_one_driver_per_output_folder(tmp_path):
    store = Store(tmp_path)
    with store.driver_lock():
        with pytest.raises(BenchError, match="another bench run or ablate"):
            with Store(tmp_path).driver_lock():
                pass
    with store.driver_lock():  # released on exit
        pass


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_live_progress_on_a_terminal_and_plain_lines_otherwise():
    tty = _Tty()
    live = SweepProgress(4, stream=tty)
    live.update({"noop-aaa": {"done": 3, "total": 10, "label": "fit"}})
    first = tty.getvalue()
    assert "sweep [" in first and "0/4 runs" in first and "ETA ?" in first
    assert "noop-aaa fit [" in first and "3/10" in first
    live.finished({"run_id": "noop-aaa", "status": "done", "metrics": {"top1": 0.5,
                                                                       "vst_cache_hit": 1.0}})
    text = tty.getvalue()[len(first):]
    assert text.startswith("\x1b[2F\x1b[J")  # the old block is erased before the line
    assert "[1/4] noop-aaa top1=50.0% (stage cache hit)" in text and "1 cache hit" in text
    assert "ETA " in text and "ETA ?" not in text

    plain = io.StringIO()
    quiet = SweepProgress(2, stream=plain)
    quiet.update({"noop-aaa": {"done": 1, "total": 2, "label": "fit"}})
    assert plain.getvalue() == ""  # nothing per tick when not on a terminal
    quiet.finished({"run_id": "noop-bbb", "status": "failed", "metrics": {}})
    assert plain.getvalue().startswith("[1/2] noop-bbb failed;") and "\x1b" not in plain.getvalue()
    assert "1 failed" in plain.getvalue()


def test_steps_reach_the_driver_through_a_throttled_file(tmp_path):
    sink = tmp_path / "progress" / "noop-x.json"
    set_sink(sink)
    try:
        step(1, 100, "fit")
        step(2, 100, "fit")  # within the throttle window: skipped
        assert read_steps(sink.parent) == {"noop-x": {"done": 1, "total": 100, "label": "fit"}}
        step(100, 100, "fit")  # the last step always lands
        assert json.loads(sink.read_text())["done"] == 100
        assert not [p for p in os.listdir(sink.parent) if p.endswith(".tmp")]
    finally:
        set_sink(None)
    step(5, 100)  # no sink: a no-op
    assert read_steps(sink.parent)["noop-x"]["done"] == 100
