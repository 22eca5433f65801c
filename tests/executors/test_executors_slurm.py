"""Slurm executor through submitit: its local and debug backends, and the real Slurm code path
(sbatch job arrays, sacct polling) against stand-in sbatch/srun/sacct/scancel scripts on PATH."""
import os
import re

import pytest

submitit = pytest.importorskip("submitit")

from bench.errors import BenchError  # noqa: E402
from bench.executors import Resources  # noqa: E402
from bench.executors.slurm import SlurmExecutor  # noqa: E402
from bench.executors.task import worker_info  # noqa: E402
import fake_slurm as fake_slurm_scripts  # noqa: E402


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    state, env = fake_slurm_scripts.install(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return state


def test_sbatch_job_arrays_grouped_by_resources(fake_slurm, tmp_path):
    ex = SlurmExecutor(workers=2, log_dir=str(tmp_path / "logs"), cluster="slurm",
                       partition="gpu")
    small, big = Resources(cpus=1), Resources(cpus=2, mem_gb=4)
    try:
        futures = ex.submit_many([(worker_info, (), {}, small), (worker_info, (), {}, big),
                                  (worker_info, (), {}, small)])
        infos = [f.result(timeout=120) for f in futures]
    finally:
        ex.shutdown()
    assert infos[0]["OMP_NUM_THREADS"] == "1" and infos[1]["OMP_NUM_THREADS"] == "2"
    scripts = {p.stem: p.read_text() for p in fake_slurm.glob("*.sbatch")}
    assert len(scripts) == 2  # one array per distinct resource request
    arrays = [re.search(r"--array=(\S+)", s) for s in scripts.values()]
    assert sorted(m[1] if m else "single job" for m in arrays) == ["0-1%2", "single job"]
    big_script = next(s for s in scripts.values() if "--array" not in s)
    assert "--cpus-per-task=2" in big_script and "--mem=4GB" in big_script
    assert all("--partition=gpu" in s for s in scripts.values())


def test_a_job_that_dies_fails_its_future(fake_slurm, tmp_path, monkeypatch):
    import bench.executors.slurm as slurm_mod

    monkeypatch.setattr(slurm_mod, "FORCED_CHECK_S", 0.2)  # ask sacct quickly
    # submitit waits 15 s for a late result file (slow shared file systems); not here
    monkeypatch.setattr(submitit.core.core.Job, "_results_timeout_s", 0.5)
    ex = SlurmExecutor(log_dir=str(tmp_path / "logs"), cluster="slurm")
    try:
        future = ex.submit(os._exit, 3)  # the job process vanishes: no result
        with pytest.raises(RuntimeError, match="slurm job"):
            future.result(timeout=120)
    finally:
        ex.shutdown()


def test_local_backend_runs_at_most_workers_jobs_at_once(tmp_path):
    ex = SlurmExecutor(workers=1, log_dir=str(tmp_path / "logs"), cluster="local")
    try:
        calls = [(worker_info, (0.3,), {}, Resources()) for _ in range(2)]
        first, second = [f.result(timeout=120) for f in ex.submit_many(calls)]
    finally:
        ex.shutdown()
    assert first["pid"] != second["pid"]
    assert first["ended"] <= second["started"] or second["ended"] <= first["started"]


def test_local_and_debug_backends_run_calls(tmp_path):
    for cluster in ("local", "debug"):
        ex = SlurmExecutor(log_dir=str(tmp_path / cluster), cluster=cluster)
        try:
            info = ex.submit(worker_info, resources=Resources(cpus=1)).result(timeout=120)
            bad = ex.submit(int, "x")
            with pytest.raises(RuntimeError, match="invalid literal"):
                bad.result(timeout=120)
        finally:
            ex.shutdown()
        assert info["OMP_NUM_THREADS"] == "1"


def test_no_srun_and_unknown_backend_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no srun anywhere
    with pytest.raises(BenchError, match="BENCH_SLURM_CLUSTER=local"):
        SlurmExecutor(log_dir=str(tmp_path), cluster="slurm")
    with pytest.raises(BenchError, match="expected one of slurm, local, debug"):
        SlurmExecutor(log_dir=str(tmp_path), cluster="pbs")
