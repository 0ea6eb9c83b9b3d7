"""One terminal: an exec stream, the greenlet that pumps its output, and its replay buffer."""
from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Callable

from ..kube import frames
from ..kube.conn import Target
from . import flow, output
from .limits import Limits
from .ports import ExitSink, OutputSink, Runtime, Stream  # noqa: F401 (re-exported)
from .skip import SkipsBacklog

log = logging.getLogger(__name__)


class TerminalSession(SkipsBacklog):
    """Owns one exec stream; exactly one pump reads it, anyone may write, resize or close."""

    # Background work alive across all sessions (for /api/stats and the leak tests).
    running = {"pumps": 0, "hangups": 0}
    _running_lock = threading.Lock()

    @classmethod
    def _count(cls, what: str, delta: int) -> None:
        with cls._running_lock:
            cls.running[what] += delta

    def __init__(self, owner: str, target: Target, shell: list[str], stream: Stream,
                 limits: Limits, runtime: Runtime, on_output: OutputSink, on_exit: ExitSink,
                 initial: bytes = b"", hangup: Callable[[], bool] | None = None, *,
                 flush_on_interrupt: bool = True, size: tuple[int, int] | None = None):
        self.id = secrets.token_urlsafe(18)
        self.owner, self.target, self.shell = owner, target, shell
        self.owner_name = ""      # for logs: the owner's user name (the registry sets it)
        self.stream, self.limits, self.runtime = stream, limits, runtime
        self._on_output, self._on_exit = on_output, on_exit
        self.sid: str | None = None
        self.detached_at: float | None = time.monotonic()
        self.started_at = time.time()
        self.closed = False
        self.close_reason = ""
        self._replay = output.ReplayBuffer(limits.replay_bytes)
        self._kept_state = output.CLEAN          # parser state at the end of what was kept
        self._at_line_start = True
        self.flush_on_interrupt = flush_on_interrupt
        self._init_skips(limits)
        self._size = size                         # (cols, rows) as last set
        self._meter = flow.DrainMeter()
        self._recv_buffer = 0
        self._attached_once = False
        self._unsent = bytearray(initial)      # read from the stream, not yet emitted
        self._in_flight = 0                    # emitted, not yet acknowledged
        self._unasked = 0                      # emitted without asking for an acknowledgement
        self._detached_bytes = 0               # produced since the last client left
        self._generation = 0                   # bumps on every (re)attach: stale acks are ignored
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._exit_status: frames.ExitStatus | None = None
        self._hangup = hangup
        self._finished = threading.Event()     # the remote process has been dealt with
        # Recording and admin watchers: ("o" output | "i" input | "r" b"COLSxROWS", data).
        self.tap: Callable[[str, bytes], None] | None = None

    # -- client side -------------------------------------------------------
    def attach(self, sid: str) -> bytes:
        """Make `sid` the session's client; return the recent output to replay."""
        with self._lock:
            self.sid = sid
            self.detached_at = None
            self._generation += 1
            self._in_flight = self._unasked = 0
            self._detached_bytes = 0
            self._meter = flow.DrainMeter()
            replay = self._replay.snapshot()
            nudge, self._attached_once = self._attached_once, True
        self._wake.set()
        if nudge:
            self._redraw()
        return replay

    def _redraw(self) -> None:
        """Make a full-screen program redraw for a re-attached client: a size change sends SIGWINCH."""
        if self._size is None or self.closed:
            return
        cols, rows = self._size
        self.stream.resize(cols, rows - 1 if rows > 1 else rows + 1)
        self.stream.resize(cols, rows)

    def detach(self, sid: str) -> bool:
        """Forget `sid` if it is the current client; the session keeps running for the grace period."""
        with self._lock:
            if self.sid != sid:
                return False
            self.sid = None
            self.detached_at = time.monotonic()
            self._generation += 1
            self._in_flight = self._unasked = 0
        self._wake.set()
        return True

    def write(self, data: bytes) -> bool:
        if self.closed:
            return False
        self._tapped("i", data)
        self._rearm = None                        # what comes after new input is new output
        if self.flush_on_interrupt and any(c in data for c in self.limits.interrupt_chars):
            self._interrupted()
        return self.stream.write(data)

    def resize(self, cols: int, rows: int) -> bool:
        if self.closed:
            return False
        self._size = (cols, rows)
        self._tapped("r", f"{cols}x{rows}".encode())
        return self.stream.resize(cols, rows)

    def _tapped(self, kind: str, data: bytes) -> None:
        if self.tap is not None:
            try:
                self.tap(kind, data)
            except Exception:  # noqa: BLE001 - a recorder never takes the terminal down
                log.exception("session %s: tap failed", self.id)

    # -- pump --------------------------------------------------------------
    def start(self) -> None:
        self._window()          # caps the exec connection's receive buffer before output flows
        self.runtime.spawn(self._pump)

    def _pump(self) -> None:
        reason = "connection to the container closed"
        self._count("pumps", 1)
        try:
            if self._unsent:
                self._tapped("o", bytes(self._unsent))
                self._flush()
            while not self.closed:
                if self._skip_until is not None:
                    if not self._skip_backlog(None):
                        break
                    continue
                batch = self.limits.batch
                ready = self.stream.read_ready(batch)
                if ready is None:
                    break
                if self._skip_until is not None:
                    if not self._skip_backlog(ready):
                        break
                    continue
                before = len(self._unsent)
                self._take(ready)
                while (len(self._unsent) < batch and not self.closed and self._skip_until is None
                       and self._exit_status is None and self.stream.readable_now()):
                    ready = self.stream.read_ready(batch - len(self._unsent))
                    if ready is None:
                        break
                    self._take(ready)
                got = len(self._unsent) - before
                self._recent.add(got, time.monotonic())
                if self._rearm is not None and self._backlog_resumed():
                    continue                         # the skip drops this batch too
                if len(self._unsent) > before:      # recorded and shown to watchers once per batch
                    self._tapped("o", bytes(self._unsent[before:]))
                if self._unsent:
                    self._flush()
                if self._exit_status is not None:
                    break
                # Green threads switch only when they would block, and a flooding exec never
                # blocks: give every other terminal a turn between batches, and let output
                # that streams in slower than it is read gather into fewer events.
                lim = self.limits
                self.runtime.sleep(0 if self._unsent else flow.gather_rest(got, lim.batch, lim.coalesce, lim.coalesce_min))
        except Exception:  # noqa: BLE001 - a pump must never die silently
            log.exception("session %s: pump failed", self.id)
            reason = "internal error in the terminal pump"
        finally:
            st = self._exit_status
            if st is not None:
                self.close(st.reason, st.code)
            else:
                self.close(self.close_reason or reason)
            self._count("pumps", -1)

    def _take(self, ready: list[tuple[int, bytes]]) -> None:
        for channel, payload in ready:
            if channel in (frames.STDOUT, frames.STDERR):
                if self._resync is not None:
                    payload = self._resynced(payload)
                self._unsent += payload
            elif channel == frames.ERROR:
                self._exit_status = frames.exit_status(payload)

    def _flush(self) -> None:
        """Emit what was read, in batches, never more than the window ahead of the client's acks."""
        while self._unsent and not self.closed and self._skip_until is None:
            with self._lock:
                sid, gen = self.sid, self._generation
                if sid is None:
                    # Nobody watches: keep up to replay_bytes, then stop reading (the remote
                    # process blocks, as under Ctrl-S) until a client attaches.
                    room = self.limits.replay_bytes - self._detached_bytes
                    chunk = bytes(self._unsent[:max(room, 0)])
                    del self._unsent[:len(chunk)]
                    self._detached_bytes += len(chunk)
                    self._keep(chunk)
                    if not self._unsent:
                        return
                    self._wake.clear()
                elif self._in_flight >= self._window() and self._grace <= 0:
                    self._wake.clear()
                else:
                    chunk = bytes(self._unsent[:self.limits.batch])
                    del self._unsent[:len(chunk)]
                    self._grace = max(0, self._grace - len(chunk))
                    self._in_flight += len(chunk)
                    self._keep(chunk)
                    self._on_output(self, sid, chunk, self._acker(gen, len(chunk)))
                    continue
            self._wake.wait(self.limits.pump_wake)

    def _window(self) -> int:
        """The flow-control window: about `lag` seconds of what this client drains, within bounds."""
        lim = self.limits
        allowed = flow.budget(self._meter.rate(), lim.lag, 2 * lim.batch, 2 * lim.window) // 2
        self._limit_recv_buffer(min(lim.recv_buffer_max, max(lim.recv_buffer_min, allowed)))
        return max(min(lim.window, allowed), 2 * lim.batch)

    def _limit_recv_buffer(self, n: int) -> None:
        """Cap the exec connection's socket receive buffer (set again only on a change of a quarter)."""
        if abs(n - self._recv_buffer) * 4 > self._recv_buffer:
            self._recv_buffer = n
            limit = getattr(self.stream, "limit_receive_buffer", None)
            if limit is not None:
                limit(n)

    def _keep(self, chunk: bytes) -> None:
        self._replay.append(chunk)
        if chunk:
            self._kept_state = output.advance(self._kept_state, chunk)
            self._at_line_start = chunk.endswith(b"\n")

    def _acker(self, gen: int, n: int) -> Callable[..., None] | None:
        """The acknowledgement to ask for with an output of `n` bytes; None for a small one.

        One acknowledgement covers its output and the unacknowledged ones before it, so
        keystroke echoes are acknowledged in bulk (docs/PROTOCOL.md, flow control).
        """
        self._unasked += n
        lim = self.limits
        if n < lim.ack_min and self._unasked < min(lim.ack_every, lim.window // 4):
            return None
        covered, self._unasked = self._unasked, 0
        sent_at = time.monotonic()

        def ack(*_args) -> None:
            with self._lock:
                if gen == self._generation:
                    self._in_flight = max(0, self._in_flight - covered)
                    self._meter.acked(n, sent_at, time.monotonic())
            self._wake.set()
        return ack

    # -- end ---------------------------------------------------------------
    def close(self, reason: str, code: int | None = None) -> None:
        """End the session and the remote process; idempotent, logs why once."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.close_reason = reason
            sid = self.sid
        self._wake.set()
        self.stream.close_stdin()
        self.stream.close()
        log.info("session %s closed: user=%s (id %s) target=%s reason=%s",
                 self.id, self.owner_name or self.owner, self.owner, self.target, reason)
        self._on_exit(self, sid, code, reason)
        if self._hangup is not None and self._exit_status is None:
            self._count("hangups", 1)
            self.runtime.spawn(self._hang_up)
        else:
            self._finished.set()

    def _hang_up(self) -> None:
        """Make sure the remote shell ends: closing the stream alone does not on every runtime."""
        try:
            if not self._hangup():
                log.warning("session %s: could not confirm the remote shell ended", self.id)
        except Exception:  # noqa: BLE001
            log.exception("session %s: hang-up failed", self.id)
        finally:
            self._count("hangups", -1)
            self._finished.set()

    def wait_finished(self, timeout: float) -> bool:
        """Wait until the remote process was hung up (or had ended by itself)."""
        return self._finished.wait(timeout)
