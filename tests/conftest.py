import os
from pathlib import Path

import pytest

# Two cores oversubscribe easily: keep every library single-threaded in tests.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


# Files that start a private Ray instance. Under `pytest -n 2 --dist loadfile` (tox: a file's
# tests on one worker, so its module fixtures are made once) they still never run at once.
RAY_FILES = {"test_executors_ray.py", "test_executor_signals.py", "test_ray_multinode.py"}


@pytest.fixture(scope="module", autouse=True)
def _one_ray_file_at_a_time(request, tmp_path_factory):
    if request.node.path.name not in RAY_FILES:
        yield
        return
    import fcntl

    # the parent of a worker's base temp dir is shared by the session's workers
    with open(tmp_path_factory.getbasetemp().parent / "bench-ray-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(autouse=True)
def _single_thread_torch():
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (development data); tests using it skip on a fresh clone without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own cache dir unless the caller pinned one."""
    if "BENCH_CACHE_TEST_KEEP" not in os.environ:
        monkeypatch.setenv("BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "bench-cache"))


@pytest.fixture(scope="session")
def llava_dir(tmp_path_factory) -> Path:
    """A tiny random LLaVA-1.5 HF directory written by benchmarks/random_llava.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("random_llava",
                                                  REPO / "benchmarks" / "random_llava.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_random_llava(tmp_path_factory.mktemp("llava") / "llava-tiny", "tiny")
