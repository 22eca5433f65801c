"""Helpers for tests that start `bench` in its own session and signal it: the processes still
alive in that session (the driver, its run processes and whatever they started)."""
import os
import signal
import subprocess
import sys
import time


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
