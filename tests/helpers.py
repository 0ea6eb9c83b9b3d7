"""Test helpers: the console server and its clients (from localcluster.console), a terminal client."""
from __future__ import annotations

import re
import threading
import time

import requests

from localcluster.console import (ADMIN_PASSWORD, ROOT, ConsoleServer, InOrderClient, csrf_token,  # noqa: F401
                                  free_port, login)

class Term:
    """A python-socketio client of /terminal that collects output per session."""

    output_delay = 0.0      # seconds each output takes to "render" before its ack (subclasses may skip __init__)

    def __init__(self, server: ConsoleServer, http: requests.Session | None, headers: dict | None = None,
                 ack_output: bool = True, output_delay: float = 0.0):
        self.sio = InOrderClient(reconnection=False)
        self.output_delay = output_delay
        self.out: dict[str, bytearray] = {}
        self.exits: dict[str, dict] = {}
        self.cond = threading.Condition()
        self.ack_output = ack_output
        hdrs = dict(headers or {})
        if http is not None:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        self.sio.on("output", self._output, namespace="/terminal")
        self.sio.on("exit", self._exit, namespace="/terminal")
        self.sio.connect(server.url, namespaces=["/terminal"], headers=hdrs, transports=["websocket"],
                         wait_timeout=10)

    def _output(self, msg):
        with self.cond:
            self.out.setdefault(msg["session"], bytearray()).extend(msg["data"])
            self.cond.notify_all()
        if self.output_delay:
            time.sleep(self.output_delay)
        return True if self.ack_output else None

    def _exit(self, msg):
        with self.cond:
            self.exits[msg["session"]] = msg
            self.cond.notify_all()

    def call(self, event: str, data, timeout: float = 30):
        return self.sio.call(event, data, namespace="/terminal", timeout=timeout)

    def open(self, pod="web-1", namespace="demo", cluster="kws-local", **extra) -> str:
        ack = self.call("open", {"cluster": cluster, "namespace": namespace, "pod": pod,
                                 "cols": 120, "rows": 40, **extra})
        assert ack["ok"], ack
        return ack["session"]

    def send(self, session: str, text: str) -> None:
        ack = self.call("input", {"session": session, "data": text})
        assert ack["ok"], ack

    SEARCH_OVERLAP = 1 << 20    # a match may begin this far before the end of the previous look

    def wait_for(self, session: str, pattern: str | bytes, timeout: float = 20) -> re.Match:
        """Wait until `pattern` shows in the session's output; returns the match.

        Each look searches the output in place, from SEARCH_OVERLAP before where the last
        one ended. Copying and searching all of it on every output event (a flood leaves
        hundreds of MB) held the lock the reading thread needs for up to a second per event:
        while a test waited, its client read about 30 times slower.
        """
        pat = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        start = 0
        with self.cond:
            while True:
                buf = self.out.get(session, b"")
                m = pat.search(buf, start if start <= len(buf) else 0)
                if m:
                    return m
                start = max(0, len(buf) - self.SEARCH_OVERLAP)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{pattern!r} not seen; got {bytes(buf[-500:])!r}")
                self.cond.wait(left)

    def wait_exit(self, session: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        with self.cond:
            while session not in self.exits:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no exit for {session}")
                self.cond.wait(left)
            return self.exits[session]

    def close(self) -> None:
        self.sio.disconnect()


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def stty_size_when(rows: int, cols: int, mark: str = "seen") -> str:
    """A shell line printing `<mark>=ROWS COLS=` once `stty size` shows the expected size (10 s at most).

    A resize travels on its own channel of the exec stream, which the kubelet (and kwok)
    serve in a goroutine apart from stdin: a resize sent before a command line is not
    ordered before it. The shell waits for the size to land instead of the test sleeping;
    if it never lands, the line prints the size the terminal has, and the test's match fails.
    """
    return (f'for i in $(seq 50); do s=$(stty size); [ "$s" = "{rows} {cols}" ] && break; sleep 0.2; done;'
            f' echo "{mark}=$s="')
