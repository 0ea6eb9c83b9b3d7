"""Headless clients for the benchmarks: the console over Socket.IO, raw exec, kubectl.

The console client is python-socketio's asyncio client. The threaded `socketio.Client`
runs every Engine.IO message in its own thread, so a binary event's placeholder and its
attachment can be handled out of order (mangled or lost output, lost acks); the asyncio
client handles messages in arrival order on one loop.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import socketio

from localcluster.console import ConsoleServer, csrf_token, login

log = logging.getLogger(__name__)
NS = "/terminal"
MARK = b"__KWS_DONE__"
# Typed after a command so that its end shows in the output; split so the echo never matches.
MARK_CMD = "; printf '%s%s\\n' __KWS _DONE__\n"


@dataclass
class Sink:
    """What one session has produced: a byte count, the recent tail and waiters on them."""

    n: int = 0
    tail: bytes = b""
    exited: dict | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def feed(self, data: bytes) -> None:
        self.n += len(data)
        self.tail = (self.tail + data)[-256:]
        self.changed.set()

    async def wait(self, pred, timeout: float) -> None:
        """Wait until pred(self) holds; TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while not pred(self):
                self.changed.clear()
                await self.changed.wait()


class Console:
    """One Socket.IO connection to /terminal (one browser tab); it may hold many sessions."""

    def __init__(self, server: ConsoleServer, cookie: str = "", token: str = ""):
        """Authenticated by the session `cookie` (a browser), or by an API `token` (a dashboard)."""
        self.server, self.cookie, self.token = server, cookie, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sinks: dict[str, Sink] = {}
        self.sio.on("output", self._output, namespace=NS)
        self.sio.on("exit", self._exit, namespace=NS)

    @staticmethod
    def cookie_for(server: ConsoleServer) -> str:
        http = login(server)
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    @staticmethod
    def token_for(server: ConsoleServer) -> str:
        """A new API token of the admin (as a dashboard would hold one)."""
        http = login(server)
        r = http.post(f"{server.url}/api/tokens", json={"name": "bench"},
                      headers={"X-CSRFToken": csrf_token(http, server)}, timeout=30)
        r.raise_for_status()
        return r.json()["token"]

    async def connect(self) -> "Console":
        await self.sio.connect(self.server.url, namespaces=[NS],
                               headers={} if self.token else {"Cookie": self.cookie},
                               auth={"token": self.token} if self.token else None,
                               transports=["websocket"], wait_timeout=20)
        return self

    async def _output(self, msg):
        sink = self.sinks.get(msg["session"])
        if sink is not None:
            sink.feed(msg["data"])
        return True   # the ack: the server sends more only when the client keeps up

    async def _exit(self, msg):
        sink = self.sinks.setdefault(msg["session"], Sink())
        sink.exited = msg
        sink.changed.set()

    async def call(self, event: str, data: dict, timeout: float = 60) -> dict:
        return await self.sio.call(event, data, namespace=NS, timeout=timeout)

    async def open(self, pod: str = "web-1", namespace: str = "demo", cluster: str = "kws-local") -> dict:
        """Open a terminal; returns the ack ({ok, session, ...} or {ok: false, error})."""
        ack = await self.call("open", {"cluster": cluster, "namespace": namespace, "pod": pod,
                                       "cols": 120, "rows": 40})
        if ack.get("ok"):
            self.sinks.setdefault(ack["session"], Sink())
        return ack

    async def send(self, session: str, text: str) -> None:
        ack = await self.call("input", {"session": session, "data": text})
        if not ack.get("ok"):
            raise RuntimeError(f"input refused: {ack}")

    def send_nowait(self, session: str, text: str) -> asyncio.Future:
        """Emit input without waiting for its ack (keystrokes are fire-and-forget in a browser)."""
        return asyncio.ensure_future(self.sio.emit("input", {"session": session, "data": text}, namespace=NS))

    async def close_session(self, session: str) -> None:
        try:
            await self.call("close", {"session": session}, timeout=20)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            pass

    async def disconnect(self) -> None:
        await self.sio.disconnect()


async def run_marked(sink: Sink, send, command: str, timeout: float) -> tuple[int, float]:
    """Type `command` plus the end marker through `send`; (bytes, seconds) until the marker."""
    await asyncio.sleep(0.3)
    start_n = sink.n
    t0 = time.perf_counter()
    await send(command + MARK_CMD)
    await sink.wait(lambda s: MARK in s.tail or s.exited is not None, timeout)
    return sink.n - start_n, time.perf_counter() - t0
