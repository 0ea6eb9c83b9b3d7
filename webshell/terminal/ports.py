"""What a terminal session needs from outside: a runtime, an exec stream, and where output and its end go."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from .session import TerminalSession


class Runtime(Protocol):
    """How the domain starts background work and sleeps (Flask-SocketIO's helpers in the app)."""

    def spawn(self, fn: Callable, *args) -> object: ...
    def sleep(self, seconds: float) -> None: ...


class Stream(Protocol):
    """An exec stream (kube.execstream.ExecStream; a scripted fake in unit tests)."""

    def read(self) -> tuple[int, bytes] | None: ...
    def read_ready(self, limit: int) -> list[tuple[int, bytes]] | None: ...   # read(), then what is buffered
    def readable_now(self) -> bool: ...
    def write(self, data: bytes) -> bool: ...
    def resize(self, cols: int, rows: int) -> bool: ...
    def close_stdin(self) -> bool: ...
    def close(self) -> None: ...


# Output leaves a session through this: (session, client sid, data, ack callback).
OutputSink = Callable[["TerminalSession", str, bytes, Callable[[], None]], None]
# And its end through this: (session, client sid or None, exit code or None, reason).
ExitSink = Callable[["TerminalSession", "str | None", "int | None", str], None]
