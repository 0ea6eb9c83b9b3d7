"""Interrupt semantics: after Ctrl-C, Ctrl-\\ or Ctrl-Z, skip the backlog of a flood.

A terminal's line discipline flushes its output queue on an interrupt (termios ISIG
without NOFLSH). Between a container's pty and a browser, megabytes more wait in kwok or
the kubelet, the API server and the socket buffers on both hops; delivered at the
client's pace they hide the prompt for seconds or minutes. So the pump reads them as
fast as it can without emitting, until the stream is quiet for `skip_quiet` seconds (the
flood stopped) or `skip_max` seconds have passed (it did not), then shows a marker and
the last lines it read, from a clean point, and delivers normally again.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from ..kube import frames
from . import flow, output

log = logging.getLogger(__name__)
COMPLETE_MAX = 4096     # bytes sent on to finish a sequence half-sent when the interrupt came
SKIP_READ = 1 << 18     # a skip takes up to this much of what is already buffered per read


class SkipsBacklog:
    """The skipping phase of TerminalSession's pump (a part of that class, using its state)."""

    def _init_skips(self, limits) -> None:
        self._skip_until: float | None = None     # an interrupt asked to skip the backlog until then
        self._rearm: tuple[float, float] | None = None   # (that bound, until when) a paused backlog may resume
        self._recent = flow.RecentBytes(limits.flood_window)   # read lately (is a flood under way?)
        self.skipped_total = 0                    # bytes discarded by interrupts (for tests and stats)
        self._resync: output.State | None = None  # after a skip with no clean point: the stream's state
        self._grace = 0                           # bytes that go out beyond the window: the skip's marker and screen

    def _interrupted(self) -> None:
        """Interrupt, quit or suspend typed: while a flood's backlog is pending, skip it."""
        with self._lock:
            pending = len(self._unsent) + self._in_flight + self._recent.value(time.monotonic())
            if self._skip_until is None and pending < self.limits.flood_bytes:
                return
            self._skip_until = time.monotonic() + self.limits.skip_max
        self._wake.set()

    def _skip_backlog(self, first: list[tuple[int, bytes]] | None) -> bool:
        """Skip until the flood stops or the bound passes; False when the pump should stop."""
        lim = self.limits
        with self._lock:
            keep = output.first_clean(self._unsent, self._kept_state, 0, COMPLETE_MAX) or 0
            read_state = output.advance(self._kept_state, self._unsent)
            dropped = len(self._unsent) - keep
            del self._unsent[keep:]
            at_line_start = self._unsent.endswith(b"\n") if self._unsent else self._at_line_start
        rows = self._size[1] if self._size else 24
        tail = output.Tail(lim.skip_tail, read_state)
        alive = True
        self._skip_take(first or (), tail)
        poll = max(0.001, min(0.01, lim.skip_quiet / 4))
        quiet_since = None
        quiet_end = False
        until = self._skip_until or 0.0
        slice_from = time.monotonic()
        while alive and not self.closed and self._exit_status is None:
            now = time.monotonic()
            until = self._skip_until
            if until is None or now >= until:
                break
            if self.stream.readable_now():
                ready = self.stream.read_ready(SKIP_READ)
                if ready is None:
                    alive = False
                    break
                self._skip_take(ready, tail)
                quiet_since = None
                # Other terminals get a turn every `skip_slice` seconds. Not after every batch,
                # as when output is sent: beside busy neighbours one batch per turn of them
                # all read a backlog too slowly to end before `skip_max`.
                if now - slice_from >= lim.skip_slice:
                    self.runtime.sleep(0)
                    slice_from = time.monotonic()
                continue
            if quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= lim.skip_quiet and tail.clean_suffix(rows) is not None:
                quiet_end = True
                break
            self.runtime.sleep(poll)
        shown = tail.clean_suffix(rows)
        if shown is None:                # no clean point to resume from: drop on until there is one
            self._resync = tail.end_state
            shown = b""
        skipped = dropped + tail.total - len(shown)
        with self._lock:
            self._skip_until = None
            self._recent.clear()
            # A pause upstream looks like the end of the flood: until new input, stay ready to skip on.
            self._rearm = (until, min(until, time.monotonic() + lim.skip_rearm)) if quiet_end and until else None
        self.skipped_total += skipped
        chunk = (output.skip_marker(skipped, at_line_start) if skipped else b"") + shown
        if chunk:
            self._unsent += chunk
            self._tapped("o", chunk)
        # What follows the skip is small and bounded (the end of a sequence, the marker, a
        # screenful): it goes out without waiting for acknowledgements of what was already in
        # flight, so a client on a slow link sees its prompt as soon as it has read that.
        self._grace = len(self._unsent)
        log.info("session %s: interrupt skipped %s bytes of output", self.id, skipped)
        if self._unsent:
            self._flush()
        return alive and self._exit_status is None

    def _backlog_resumed(self) -> bool:
        """After a skip that ended on quiet and before new input: did a flood's worth arrive? Skip on."""
        bound, armed_until = self._rearm
        now = time.monotonic()
        if now >= armed_until:
            self._rearm = None
            return False
        if self._recent.value(now) < self.limits.flood_bytes:
            return False
        with self._lock:
            self._rearm = None
            self._skip_until = bound
        log.info("session %s: the backlog resumed after a pause; skipping on", self.id)
        return True

    def _skip_take(self, ready: Iterable[tuple[int, bytes]], tail: output.Tail) -> None:
        for channel, payload in ready:
            if channel in (frames.STDOUT, frames.STDERR):
                tail.add(payload)
            elif channel == frames.ERROR:
                self._exit_status = frames.exit_status(payload)

    def _resynced(self, payload: bytes) -> bytes:
        """Drop output until the stream reaches a clean point (after a skip that found none)."""
        k = output.first_clean(payload, self._resync)
        if k is None:
            self._resync = output.advance(self._resync, payload)
            self.skipped_total += len(payload)
            return b""
        self._resync = None
        self.skipped_total += k
        return payload[k:]
