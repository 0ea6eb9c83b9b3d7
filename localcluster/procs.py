"""Processes, ports and readiness for the local cluster."""
from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request
from pathlib import Path


class ClusterError(RuntimeError):
    """The local cluster could not be built or started; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:   # a zombie child of ours counts as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


def terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                pass
            if not alive(pid):
                return
            time.sleep(0.05)


def stop(proc, grace: float = 10.0) -> None:
    """SIGTERM a child (a subprocess.Popen, or None), then SIGKILL it if it lingers; reaped either way."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: it ignored SIGTERM
        proc.kill()
        proc.wait()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(pred, timeout: float, what: str, logfile: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    tail = ""
    try:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        pass
    raise ClusterError(f"{what} within {timeout:.0f}s; last lines of {logfile}:\n{tail}")
