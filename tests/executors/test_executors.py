"""Local executor (process pool, GPU slots, torchrun) and the executors' shared contract."""
import os
import subprocess
import sys
import time

import pytest

from bench.errors import BenchError
from bench.executors import EXECUTORS, Resources, make_executor
from bench.executors.local import GpuSlots, LocalExecutor
from bench.executors.task import worker_info


def test_registry_names_the_three_executors_and_env_picks_one(monkeypatch):
    assert EXECUTORS.names() == ["local", "ray", "slurm"]
    monkeypatch.setenv("BENCH_EXECUTOR", "nope")
    with pytest.raises(BenchError, match="unknown executor 'nope'"):
        make_executor()


def test_resources_are_checked():
    with pytest.raises(BenchError, match="cpus=0"):
        Resources(cpus=0)
    with pytest.raises(BenchError, match="one process per GPU"):
        Resources(gpus=2, procs=3)
    assert Resources(gpus=2, procs=2).describe() == "1 CPU, 2 GPU, 2 procs"


def test_gpu_slots_never_hand_out_a_gpu_twice():
    slots = GpuSlots(["0", "1", "2"])
    a = slots.take(2)
    b = slots.take(1)
    assert sorted(a + b) == ["0", "1", "2"]
    slots.give_back(a)
    assert sorted(slots.take(2)) == sorted(a)
    with pytest.raises(BenchError, match="asks for 4 GPUs but this machine has 3"):
        slots.take(4)


def test_local_runs_get_distinct_gpus_through_cuda_visible_devices():
    executor = LocalExecutor(workers=2, gpu_ids=["3", "5"])
    try:
        futures = [executor.submit(worker_info, 0.3, resources=Resources(gpus=1))
                   for _ in range(3)]
        futures.append(executor.submit(worker_info, 0.0, resources=Resources(gpus=0)))
        seen = [f.result(timeout=120) for f in futures]
    finally:
        executor.shutdown()
    assert sorted({s["CUDA_VISIBLE_DEVICES"] for s in seen[:3]}) == ["3", "5"]
    assert seen[3]["CUDA_VISIBLE_DEVICES"] == ""  # a CPU run on a GPU machine sees no GPU
    assert len({s["pid"] for s in seen}) == 4  # a fresh process per run
    with pytest.raises(BenchError, match="asks for 3 GPU"):
        executor.validate([Resources(gpus=3, procs=3)])


def test_a_multi_process_run_is_one_task_under_torchrun():
    executor = LocalExecutor(workers=1, gpu_ids=[])
    try:
        info = executor.submit(worker_info, resources=Resources(procs=2)).result(timeout=180)
    finally:
        executor.shutdown()
    assert info["RANK"] == "0" and info["WORLD_SIZE"] == "2"


@pytest.mark.parametrize("name, module", [("ray", "ray"), ("slurm", "submitit")])
def test_missing_extra_is_a_one_line_error(monkeypatch, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(BenchError) as err:
        make_executor(name)
    assert f"pip install 'bench[{name}]'" in str(err.value) and "\n" not in str(err.value)


def test_worker_exceptions_reach_the_future():
    executor = LocalExecutor(workers=1, gpu_ids=[])
    try:
        future = executor.submit(time.sleep, "not a number")
        with pytest.raises(TypeError):
            future.result(timeout=120)
    finally:
        executor.shutdown()


def test_cli_refuses_an_impossible_request_before_running_anything(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # a machine without GPUs
    res = subprocess.run([sys.executable, "-m", "bench", "ablate", "noop.tag", "--values", "1,2",
                          "--suite", "mini-xsub", "--data", "synthetic", "--profile", "smoke",
                          "--gpus-per-run", "1", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        "bench: error: a run asks for 1 GPU(s) but this machine offers 0 "
        "(CUDA_VISIBLE_DEVICES / nvidia-smi)")
    assert not [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]


def test_the_cores_of_finished_runs_go_to_the_runs_still_going(monkeypatch):
    """With nothing left to start, a finished run's core is handed to the long run, which grows
    its torch threads at its next step (bench/cpu_share.py)."""
    from bench.executors.task import threads_granted

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    executor = LocalExecutor(workers=2, gpu_ids=[])
    executor.cpus, executor.threads_per_run = 2, 1  # as on a 2-core machine, whatever this one is
    try:
        long = executor.submit(threads_granted, 60.0)
        short = executor.submit(worker_info, 2.0)
        assert short.result(timeout=120)["OMP_NUM_THREADS"] == "1"
        assert long.result(timeout=120) == 2
    finally:
        executor.shutdown()


def test_threads_chosen_by_the_user_are_kept(monkeypatch):
    from bench.executors.task import threads_granted

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as --cpus-per-run 1 would
    executor = LocalExecutor(workers=2, gpu_ids=[])
    executor.cpus = 2
    try:
        long = executor.submit(threads_granted, 3.0)
        executor.submit(worker_info, 0.0).result(timeout=120)
        assert long.result(timeout=120) == 1
    finally:
        executor.shutdown()
