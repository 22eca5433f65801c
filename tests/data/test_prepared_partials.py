"""A hard-killed preparation leaves a hidden `.partial` folder; the next preparation removes it."""
import os
import socket
import subprocess
import sys
import time

from bench.data.prepared import OWNER, STALE_PARTIAL_SECONDS, build_once, prepared_root


def partial(name: str, owner: str | None = None, age: float = 0.0):
    path = prepared_root() / f".{name}.x1.partial"
    path.mkdir(parents=True)
    (path / "keypoint.npy").write_bytes(b"half-written")
    if owner is not None:
        (path / OWNER).write_text(owner)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_new_preparation_removes_stale_partials_only(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    host = socket.gethostname()
    killed = partial("killed", f"{host} {dead_pid()}")
    old = partial("old", None, age=STALE_PARTIAL_SECONDS + 60)
    foreign_old = partial("foreign", "other-host 1", age=STALE_PARTIAL_SECONDS + 60)
    running = partial("running", f"{host} {os.getpid()}", age=STALE_PARTIAL_SECONDS + 60)
    fresh = partial("fresh")  # just created by a preparation that has not written its owner yet
    seen = []

    def fill(folder):
        seen.append(sorted(p.name for p in folder.iterdir()))
        (folder / "meta.json").write_text("{}")

    target = build_once("new", fill)
    assert not killed.exists() and not old.exists() and not foreign_old.exists()
    assert running.exists() and fresh.exists()
    assert sorted(p.name for p in target.iterdir()) == ["done", "meta.json"]  # no owner file
    assert seen == [[OWNER]]
