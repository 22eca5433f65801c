"""Progress inside runs (issue 17): the MMAction2 epoch hook, plain log lines, the sweep ETA from
the runs' reported steps, --workers auto, and opt-in experiment trackers."""
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from toys import part_swing_bundle

from bench import progress, tracking
from bench.driver import _workers_for, auto_workers
from bench.errors import BenchError
from bench.progress import SweepProgress

REPO = Path(__file__).resolve().parents[1]
BENCH = [sys.executable, "-m", "bench.cli"]


class Clock:
    """time.monotonic for bench.progress, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress.time, "monotonic", c)
    return c


# --- the sweep's ETA ------------------------------------------------------------------------

def test_eta_follows_the_running_stage_not_the_mean_of_finished_runs(clock):
    """The issue's case: knn took 10 s and ST-GCN 15 min; LVLM-VAR is at LoRA step 80/100 after
    80 minutes of LoRA. The mean of finished runs said ~47 min; its own rate says 20 min."""
    sweep = SweepProgress(3, stream=io.StringIO(), live=False, workers=1,
                          methods={"knn-1": "knn", "stgcn-1": "stgcn", "lvlm-1": "lvlm_var"})
    sweep.update({"knn-1": {"done": 0, "total": 3, "label": "data"}})
    clock.now += 10
    sweep.finished({"run_id": "knn-1", "status": "done", "metrics": {}})
    sweep.update({"stgcn-1": {"done": 0, "total": 3, "label": "data"}})
    clock.now += 900
    sweep.finished({"run_id": "stgcn-1", "status": "done", "metrics": {}})
    sweep.update({"lvlm-1": {"done": 0, "total": 100, "label": "lora"}})
    clock.now += 4800
    sweep.update({"lvlm-1": {"done": 80, "total": 100, "label": "lora"}})
    assert sweep.eta() == pytest.approx(1200)
    # no LVLM-VAR run has finished: its stages after LoRA are unknown, so 20 min is a floor
    assert "ETA >20m00s" in sweep.summary()


def test_eta_spreads_waiting_runs_over_the_workers(clock):
    methods = {"a": "m", "b": "m", "c": "m"}
    one = SweepProgress(3, stream=io.StringIO(), live=False, workers=1, methods=methods)
    two = SweepProgress(3, stream=io.StringIO(), live=False, workers=2, methods=methods)
    for sweep in (one, two):
        sweep.update({"a": {"done": 0, "total": 100, "label": "train epoch 1/4"}})
    clock.now += 10
    for sweep in (one, two):  # a new label word of the same stage: the stage goes on
        sweep.update({"a": {"done": 10, "total": 100, "label": "train epoch 2/4"}})
    # a: 90 s left; b and c like a (10 s + 90 s each): one after another, or beside a
    assert one.run_eta("a") == pytest.approx(90)
    assert one.eta() == pytest.approx(90 + 100 + 100)
    assert two.eta() == pytest.approx(max(90 + 100, 100))
    assert "ETA >3m10s" in two.summary()  # a's current stage alone: a floor
    clock.now += 90
    two.finished({"run_id": "a", "status": "done", "metrics": {}})  # a took 100 s
    two.update({"b": {"done": 0, "total": 3, "label": "data"}})
    assert two.eta() == pytest.approx(100)  # b and c, side by side, as long as a took
    assert "ETA 1m40s" in two.summary()  # from a finished run of the method: no floor
    assert two._run_line("b", {"done": 0, "total": 3, "label": "data"}, clock.now).endswith(
        "ETA 1m40s")


def test_eta_unknown_until_a_stage_moves(clock):
    sweep = SweepProgress(2, stream=io.StringIO(), live=False, workers=1)
    sweep.update({"a": {"done": 5, "total": 10, "label": "fit"}})
    clock.now += 30
    assert sweep.eta() is None and "ETA ?" in sweep.summary()  # no step since it was seen
    sweep.update({"a": {"done": 6, "total": 10, "label": "fit"}})
    assert sweep.run_eta("a") == pytest.approx(120)


def test_a_fast_method_says_nothing_of_a_slow_one(clock):
    sweep = SweepProgress(2, stream=io.StringIO(), live=False, workers=2,
                          methods={"knn-1": "knn", "stgcn-1": "stgcn"})
    sweep.update({"knn-1": {"done": 0, "total": 3, "label": "data"},
                  "stgcn-1": {"done": 1, "total": 3, "label": "fit"}})
    clock.now += 12
    sweep.finished({"run_id": "knn-1", "status": "done", "metrics": {}})
    assert sweep.eta() is None  # not "0s" from knn's 12 s
    sweep.update({"stgcn-1": {"done": 0, "total": 50, "label": "stgcn epoch 1/10"}})
    clock.now += 10
    sweep.update({"stgcn-1": {"done": 5, "total": 50, "label": "stgcn epoch 1/10"}})
    assert sweep.eta() == pytest.approx(90)


def test_a_new_stage_is_written_at_once_and_steps_of_a_stage_are_throttled(clock, tmp_path):
    """A finished stage followed by a silent one (the LM's GGUF conversion after the VST) must
    not leave "vst 200/200" on the display for minutes."""
    sink = tmp_path / "run.json"
    progress.set_sink(sink)
    try:
        def shown():
            return json.loads(sink.read_text())

        progress.step(199, 200, "vst")
        clock.now += 0.1
        progress.step(200, 200, "vst")  # a stage's last step is always written
        assert shown() == {"done": 200, "total": 200, "label": "vst"}
        clock.now += 0.1
        progress.step(0, 1, "LM conversion (once)")
        assert shown()["label"] == "LM conversion (once)"
        clock.now += 0.1
        progress.step(1, 10, "lora")
        clock.now += 0.1
        progress.step(2, 10, "lora")  # same stage within WRITE_EVERY_S: not rewritten
        assert shown() == {"done": 1, "total": 10, "label": "lora"}
        clock.now += progress.WRITE_EVERY_S
        progress.step(3, 10, "lora")
        assert shown()["done"] == 3
    finally:
        progress.set_sink(None)


def test_plain_progress_lines_off_a_terminal(clock, monkeypatch):
    out = io.StringIO()
    sweep = SweepProgress(2, stream=out, live=False, workers=2)
    sweep.update({"stgcn-1": {"done": 10, "total": 80, "label": "stgcn epoch 2/16"}})
    assert out.getvalue() == ""  # not every tick
    clock.now += progress.PLAIN_EVERY_S
    sweep.update({"stgcn-1": {"done": 20, "total": 80, "label": "stgcn epoch 3/16"}})
    line = out.getvalue()
    assert line.startswith("progress: 0/2 runs") and line.count("\n") == 1
    # no ST-GCN run has finished yet: its current stage gives a floor
    assert "stgcn-1 stgcn epoch 3/16 20/80 ETA >6m00s" in line
    assert "\r" not in line and "\x1b" not in line


# --- the MMAction2 hook ---------------------------------------------------------------------

def test_gcn_epochs_and_test_batches_are_reported_and_logged(tmp_path, monkeypatch, caplog):
    import torch

    from bench.methods.gcn_zoo import STGCN

    torch.set_num_threads(1)
    steps = []
    monkeypatch.setattr(progress, "step", lambda done, total, label="": steps.append(
        (done, total, label)))
    has_tb = _has("tensorboard")
    if has_tb:
        tracking.start(tmp_path / "run", ("tensorboard",), "stgcn-x")
    data = part_swing_bundle(classes=10, train=6, val=1, test=2)
    method = STGCN({**STGCN.default_config("smoke"), "epochs": 2}, profile="smoke", seed=0,
                   workdir=tmp_path / "work", cache_dir=tmp_path / "cache")
    method.workdir.mkdir()
    try:
        with caplog.at_level(logging.INFO, logger="bench"):
            method.fit(data)
            method.predict(data.test, data)
    finally:
        tracking.finish()

    train = [s for s in steps if "epoch" in s[2]]
    total = train[0][1]
    assert [s[0] for s in train] == list(range(1, total + 1))  # every iteration, in order
    assert {s[2].split(" (")[0] for s in train} == {"stgcn epoch 1/2", "stgcn epoch 2/2"}
    assert "(loss " in train[-1][2]  # the last finished epoch's loss
    test = [s for s in steps if s[2] == "stgcn test"]
    assert test and test[-1][0] == test[-1][1]
    lines = [r.getMessage() for r in caplog.records if r.name == "bench"]
    epochs = [x for x in lines if re.fullmatch(r"stgcn epoch \d/2 loss \d+\.\d{3} \(\d+s, ETA "
                                               r"\d+s\)", x)]
    assert [x.split(" loss")[0] for x in epochs] == ["stgcn epoch 1/2", "stgcn epoch 2/2"]
    assert any(re.fullmatch(r"stgcn val epoch 2/2 top1 \d+\.\d%", x) for x in lines)
    if has_tb:  # mmengine's TensorBoard backend wrote the training curve
        tags = _scalar_tags(tmp_path / "run" / "tb")
        assert {"loss", "lr", "acc/top1"} <= tags


# --- log.txt and third-party bars -----------------------------------------------------------

def test_log_txt_lines_have_no_carriage_returns():
    from bench.runner import PlainLines

    record = logging.LogRecord("bench", logging.INFO, __file__, 1, "a 10%\rb 50%\r\nc", None,
                               None)
    assert PlainLines("%(message)s").format(record) == "a 10%\nb 50%\nc"


def _tqdm_in_a_run() -> str:
    """Run in a run's process: a library's tqdm bar; returns the env the run saw."""
    from tqdm import tqdm

    for _ in tqdm(range(3)):
        pass
    return os.environ.get("TQDM_DISABLE", "")


def test_run_processes_draw_no_third_party_bars(capfd, monkeypatch):
    from bench.executors.local import LocalExecutor

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    executor = LocalExecutor(workers=1, gpu_ids=[])
    try:
        assert executor.submit(_tqdm_in_a_run).result(timeout=120) == "1"
    finally:
        executor.shutdown()
    assert "\r" not in capfd.readouterr().err  # the run's stderr is the driver's


# --- --workers auto -------------------------------------------------------------------------

def test_auto_workers_fit_the_cpus_and_gpus_and_the_runs(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert auto_workers(3, cpus=2, gpus=0)[0] == 2
    assert auto_workers(1, cpus=16, gpus=0)[0] == 1  # never more than the runs
    assert auto_workers(10, cpus_per_run=3, cpus=16, gpus=0)[0] == 5
    assert auto_workers(10, cpus=16, gpus=2)[0] == 2  # one GPU a run by default
    assert auto_workers(10, cpus=16, gpus=4, gpus_per_run=2)[0] == 2
    assert auto_workers(10, cpus=16, gpus=4, gpus_per_run=0)[0] == 10
    assert auto_workers(10, cpus=1, gpus=0)[0] == 1
    n, why = auto_workers(3, cpus=2, gpus=0)
    assert why == "2 CPUs / 1 thread(s) per run, 3 run(s)"
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the threads each run will use
    assert auto_workers(10, cpus=16, gpus=0)[0] == 4


def test_explicit_workers_win_and_schedulers_get_every_run(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert _workers_for(3, 10, "local", None, None, {}) == (3, "")
    assert _workers_for("auto", 7, "slurm", None, None, {})[0] == 7
    assert _workers_for("auto", 7, "ray", None, None, {"address": "10.0.0.1:6379"})[0] == 7
    n, note = _workers_for("auto", 7, "local", 1, 0, {})
    assert 1 <= n <= min(7, len(os.sched_getaffinity(0))) and note.startswith(" (--workers auto")


def test_cli_workers_option():
    from bench.cli import _workers

    assert _workers("auto") == "auto" and _workers("3") == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(Exception, match="expected auto or a positive number"):
            _workers(bad)


# --- trackers ---------------------------------------------------------------------------------

def test_track_errors_are_one_line(monkeypatch):
    with pytest.raises(BenchError, match="--track 'mlflow': expected one of tensorboard, wandb"):
        tracking.parse("mlflow")
    real = tracking.importlib.util.find_spec
    monkeypatch.setattr(tracking.importlib.util, "find_spec",
                        lambda name: None if name == "wandb" else real(name))
    with pytest.raises(BenchError, match="needs the optional package 'wandb': pip install wandb"):
        tracking.parse("wandb")
    assert tracking.parse(None) == () and not tracking.active()
    tracking.scalar("x", 1.0, 1)  # off: nothing happens, nothing is imported


def test_wandb_runs_offline_into_the_run_folder_without_an_api_key(tmp_path, monkeypatch):
    """W&B is not installed here: a stand-in module records what bench asks of it."""
    calls = []

    class Run:
        def log(self, values, step):
            calls.append(("log", values, step))

        def finish(self):
            calls.append(("finish",))

    fake = type(sys)("wandb")
    fake.init = lambda **kw: calls.append(("init", kw)) or Run()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    for key in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_PROJECT", "RANK"):
        monkeypatch.delenv(key, raising=False)
    tracking.start(tmp_path, ("wandb",), "lvlm_var-abc")
    try:
        (backend,) = tracking.mmengine_backends()
        tracking.scalar("lora/loss", 0.5, 3)
    finally:
        tracking.finish()
    expected = dict(project="bench", name="lvlm_var-abc", dir=str(tmp_path / "wandb"),
                    mode="offline")
    assert backend["type"] == "WandbVisBackend" and backend["init_kwargs"] == expected
    assert calls == [("init", expected), ("log", {"lora/loss": 0.5}, 3), ("finish",)]
    assert not tracking.active()


def test_track_tensorboard_writes_event_files_in_a_smoke_run(tmp_path):
    pytest.importorskip("tensorboard")
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = BENCH + ["run", "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
                   "--methods", "noop", "--seeds", "0", "--out", str(out)]
    done = subprocess.run(cmd + ["--track", "tensorboard"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "--workers auto: " in done.stderr  # the resolved value is printed
    (run,) = [p for p in (out / "runs").iterdir() if p.name.startswith("noop-")]
    assert {"test/top1", "test/num_test"} <= _scalar_tags(run / "tb")
    assert "\r" not in (run / "log.txt").read_text()
    # tracking is not part of the run's identity: the same command without it has nothing to do
    again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "1 runs planned, 1 already done" in again.stderr


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _scalar_tags(folder: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert list(folder.glob("events.out.tfevents.*")), f"no event file in {folder}"
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return set(acc.Tags()["scalars"])
