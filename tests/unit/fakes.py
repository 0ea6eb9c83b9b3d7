"""Fakes for the fast unit layer: a scripted exec stream, a thread runtime, a starter, a transport."""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from webshell.kube import frames
from webshell.kube.conn import Target


def ready_after(first, pop, limit: int):
    """What `read_ready(limit)` returns: `first`, then frames from `pop()` (None: none queued) up to `limit` bytes."""
    if first is None:
        return None
    ready, size = [first], len(first[1])
    while size < limit and (frame := pop()) is not None:
        ready.append(frame)
        size += len(frame[1])
    return ready


class FakeStream:
    """An exec stream whose frames the test pushes; writes, resizes and closes are recorded."""

    def __init__(self, script=()):
        self._frames = deque(script)
        self._cond = threading.Condition()
        self._ended = False
        self.written: list[bytes] = []
        self.resizes: list[tuple[int, int]] = []
        self.closed = False
        self.stdin_closed = False
        self.reads = 0
        self.waiting = False       # a reader waits for the next frame

    def push(self, channel: int, payload: bytes) -> None:
        with self._cond:
            self._frames.append((channel, payload))
            self._cond.notify_all()

    def out(self, data: bytes) -> None:
        self.push(frames.STDOUT, data)

    def exit(self, code: int) -> None:
        status = {"status": "Success"} if code == 0 else {
            "status": "Failure", "reason": "NonZeroExitCode", "message": f"exit {code}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        self.push(frames.ERROR, json.dumps(status).encode())

    def end(self) -> None:
        """The connection drops: read() returns None once the queued frames are read."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._frames)

    def read(self):
        with self._cond:
            while not self._frames and not self._ended and not self.closed:
                self.waiting = True
                self._cond.wait(0.05)
            self.waiting = False
            return self._queued()          # the condition's lock is an RLock

    def read_ready(self, limit: int):
        return ready_after(self.read(), self._queued, limit)

    def _queued(self):
        with self._cond:
            if not self._frames or self.closed:
                return None
            self.reads += 1
            return self._frames.popleft()

    def readable_now(self) -> bool:
        with self._cond:
            return bool(self._frames) or self._ended or self.closed

    def write(self, data: bytes) -> bool:
        if self.closed:
            return False
        self.written.append(data)
        return True

    def resize(self, cols: int, rows: int) -> bool:
        if self.closed:
            return False
        self.resizes.append((cols, rows))
        return True

    def close_stdin(self) -> bool:
        self.stdin_closed = True
        return True

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class ThreadRuntime:
    """The domain's spawn/sleep on plain threads."""

    def spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        return t

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class FakeShell:
    target: Target
    stream: FakeStream
    program: str = "bash"
    pid: int | None = 4242
    initial: bytes = b""
    hangups: list[int] = field(default_factory=list)

    @property
    def can_hang_up(self) -> bool:
        return self.pid is not None

    def hang_up(self) -> bool:
        self.hangups.append(self.pid)
        return True


class FakeStarter:
    """Starts FakeShells; `gate` (an Event) holds every start until set; `pods` says which pods exist."""

    def __init__(self):
        self.shells: list[FakeShell] = []
        self.gate: threading.Event | None = None
        self.pods: set[str] | None = None
        self.on_start = None         # called inside start() (e.g. to check no DB connection is held)
        self.fail: Exception | None = None

    def start(self, cluster, namespace, pod, container, command, cols, rows, headers=None):
        if self.on_start is not None:
            self.on_start()
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        shell = FakeShell(Target(cluster, namespace, pod, container or "main"), FakeStream())
        shell.stream.resize(cols, rows)
        self.shells.append(shell)
        return shell

    def alive_pods(self, cluster, namespace):
        return self.pods if self.pods is not None else {s.target.pod for s in self.shells}


class FakeTransport:
    """Records what the service sends; `auto_ack` acknowledges output at once."""

    def __init__(self, auto_ack: bool = True):
        self.auto_ack = auto_ack
        self.outputs: list[tuple[str, str, bytes]] = []
        self.acks: list = []
        self.sent: list[tuple[str, dict, str]] = []
        self.disconnected: list[str] = []
        self.cond = threading.Condition()

    def output(self, sid, session_id, data, ack):
        with self.cond:
            self.outputs.append((sid, session_id, data))
            if ack is not None:            # a small output asks for none (docs/PROTOCOL.md)
                self.acks.append(ack)
            self.cond.notify_all()
        if self.auto_ack and ack is not None:   # acks arrive later, from the client, never inside the emit
            threading.Timer(0.001, ack).start()

    def send(self, event, payload, sid):
        with self.cond:
            self.sent.append((event, payload, sid))
            self.cond.notify_all()

    def disconnect(self, sid):
        self.disconnected.append(sid)

    def data(self, sid: str | None = None) -> bytes:
        with self.cond:
            return b"".join(d for s, _, d in self.outputs if sid is None or s == sid)

    def wait(self, pred, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("condition not met in time")
                self.cond.wait(left)


def wait_until(pred, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.01)
