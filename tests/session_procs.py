"""Helpers for tests that start `bench` in its own session and signal it: the processes still
alive in that session (the driver, its run processes and whatever they started), and the store
left after such kills."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from bench.store import Store, file_sha256


def start_bench(args, env=None) -> subprocess.Popen:
    """`python -m bench ARGS` as the leader of a new session (so its processes can be found)."""
    return subprocess.Popen([sys.executable, "-m", "bench", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def alive_in_session(sid: int) -> list[int]:
    """Pids of the live (not zombie) processes of session `sid`."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, session, ...
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(name))
    return pids


def run_processes(sid: int) -> list[int]:
    """The run processes of a driver that leads session `sid`: each leads its own group."""
    return [pid for pid in alive_in_session(sid) if pid != sid and _group(pid) == pid]


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:  # ended meanwhile
        return None


def wait_gone(sid: int, timeout: float) -> list[int]:
    """Wait until no process of the session is alive; returns those still alive at timeout."""
    deadline = time.monotonic() + timeout
    while (left := alive_in_session(sid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def kill_session(sid: int) -> None:
    """Clean-up: SIGKILL whatever of the session is still alive."""
    for pid in alive_in_session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def check_intact(store: Store, ids: list[str]) -> None:
    """After kills and a rerun: one intact, indexed result per run id and nothing half-written."""
    folders = sorted(p.name for p in store.runs.iterdir() if not p.name.startswith("."))
    assert folders == sorted(ids)
    for run_id in ids:
        folder = store.run_dir(run_id)
        result = json.loads((folder / "result.json").read_text())
        assert result["run_id"] == run_id and result["status"] == "done", result.get("error")
        assert file_sha256(folder / "predictions.npz") == result["predictions_sha256"]
        with np.load(folder / "predictions.npz") as z:
            assert z["scores"].shape[0] == len(z["sample_ids"]) == len(z["labels"]) > 0
    assert store.indexed() == {i: "done" for i in ids}
    scratch = [p for p in store.out.rglob("*") if p.name.startswith((".staging-", ".trash-"))
               or ".tmp" in p.name or (p.parent == store.progress_dir)]
    assert scratch == []
    assert not (store.out / "quarantine").exists()  # commits are atomic: nothing to heal
