"""Where terminal output may be cut: escape sequences and UTF-8 characters, as pure functions.

A terminal parses its input with a small state machine (the DEC/xterm parser that
xterm.js follows). Output may be cut, skipped or replayed only at a *clean point*: in
ground state, with no UTF-8 character half-read. ESC, CAN and SUB change the state
from anywhere, so the state at the end of a buffer depends only on what follows the
last of them: `advance` finds it with a few C-speed scans, never byte by byte.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

GROUND, ESCAPE, ESC_INTER, CSI, OSC, STRING = range(6)
_ESC, _CAN, _SUB, _BEL = 0x1B, 0x18, 0x1A, 0x07
# Bytes a CSI (or an escape's intermediates) may hold before its final byte: parameters,
# intermediates, DEL and the C0 controls the parser executes in passing (not ESC/CAN/SUB).
_CSI_BODY = re.compile(rb"[\x00-\x17\x19\x1c-\x3f\x7f]*")
_INTER_BODY = re.compile(rb"[\x00-\x17\x19\x1c-\x2f\x7f]*")
_ANYWHERE = re.compile(rb"[\x18\x1a\x1b]")
_STRING_OPENERS = {0x50, 0x58, 0x5E, 0x5F}     # DCS P, SOS X, PM ^, APC _


@dataclass(frozen=True)
class State:
    """The parser's state: `mode`, and in ground the UTF-8 continuation bytes still due."""

    mode: int = GROUND
    need: int = 0

    @property
    def clean(self) -> bool:
        return self.mode == GROUND and self.need == 0


CLEAN = State()
_ESCAPE = State(ESCAPE)


def _lead_need(b: int) -> int:
    return 1 if 0xC2 <= b <= 0xDF else 2 if 0xE0 <= b <= 0xEF else 3 if 0xF0 <= b <= 0xF4 else 0


def _utf8_need(data, start: int, end: int) -> int:
    """Continuation bytes still due for the UTF-8 character that data[start:end] ends in (0: none)."""
    p = end - 1
    while p >= start and end - p <= 4 and 0x80 <= data[p] < 0xC0:
        p -= 1
    if p < start or end - p > 4:
        return 0
    return max(0, _lead_need(data[p]) - (end - p - 1))


def _step(s: State, data, pos: int, end: int, clear: bool = False) -> tuple[State, int]:
    """Advance at least one byte from `pos` (data[pos:end] non-empty); ESC/CAN/SUB handled here too.

    `clear`: the caller knows data[pos:end] holds no ESC, CAN or SUB, so no search for one.
    """
    b = data[pos]
    m = s.mode
    if m == GROUND and s.need:
        if 0x80 <= b < 0xC0:
            return State(GROUND, s.need - 1), pos + 1
        return CLEAN, pos                           # a broken character: the byte starts afresh
    if b == _ESC:
        return _ESCAPE, pos + 1
    if b in (_CAN, _SUB):
        return CLEAN, pos + 1
    if m == GROUND:
        stop = end if clear else _next_anywhere(data, pos, end)
        return State(GROUND, _utf8_need(data, pos, stop)), stop
    if m == ESCAPE:
        if 0x20 <= b <= 0x2F:
            return State(ESC_INTER), pos + 1
        if b == 0x5B:
            return State(CSI), pos + 1
        if b == 0x5D:
            return State(OSC), pos + 1
        if b in _STRING_OPENERS:
            return State(STRING), pos + 1
        if 0x30 <= b <= 0x7E:
            return CLEAN, pos + 1
        if b < 0x20 or b == 0x7F:
            return s, pos + 1                      # executed in passing
        return State(GROUND, _lead_need(b)), pos + 1   # not ASCII: the sequence is void
    if m in (CSI, ESC_INTER):
        body = (_CSI_BODY if m == CSI else _INTER_BODY).match(data, pos, end).end()
        if body == end:
            return s, end
        final = data[body]
        if final in (_ESC, _CAN, _SUB):
            return s, body
        if (0x40 if m == CSI else 0x30) <= final <= 0x7E:
            return CLEAN, body + 1
        return State(GROUND, _lead_need(final)), body + 1   # not ASCII: the sequence is void
    if m == OSC:
        stop = end if clear else _next_anywhere(data, pos, end)
        bel = data.find(b"\x07", pos, stop)
        return (CLEAN, bel + 1) if bel >= 0 else (s, stop)
    return s, end if clear else _next_anywhere(data, pos, end)   # STRING: only ESC (ST), CAN or SUB end it


def _next_anywhere(data, pos: int, end: int) -> int:
    """Where the next ESC, CAN or SUB is in data[pos:end]; `end` if there is none."""
    nxt = _ANYWHERE.search(data, pos, end)
    return nxt.start() if nxt else end


def advance(s: State, data, start: int = 0, end: int | None = None) -> State:
    """The state after data[start:end], starting in state `s`."""
    end = len(data) if end is None else end
    last = max(data.rfind(b"\x1b", start, end), data.rfind(b"\x18", start, end), data.rfind(b"\x1a", start, end))
    if last >= 0:
        s, start = (_ESCAPE if data[last] == _ESC else CLEAN), last + 1
    while start < end:               # after the last ESC/CAN/SUB: none to search for
        s, start = _step(s, data, start, end, clear=True)
    return s


def first_clean(data, s: State, start: int = 0, limit: int | None = None) -> int | None:
    """The first clean offset >= `start` (where the state is `s`), at most `limit` bytes on; None if none."""
    end = len(data) if limit is None else min(len(data), start + limit)
    pos = start
    while not s.clean:
        if pos >= end:
            return None
        s, pos = _step(s, data, pos, end)
    return pos


def clean_line_start(data, s: State, lines: int, max_bytes: int) -> int | None:
    """Where the last `lines` lines of `data` begin, at a clean point, within its last `max_bytes`.

    `s` is the state at offset 0. Prefers the start of a line; falls back to any clean
    point; None when no clean point exists in that range (a very long string sequence).
    """
    n = len(data)
    lo = max(0, n - max_bytes)
    cut, p, found = lo, n, 0
    while found < max(1, lines):
        k = data.rfind(b"\n", lo, p)
        if k < 0:
            break
        p, found = k, found + 1
    if found == max(1, lines):
        cut = p + 1
    elif lo > 0:                               # capped mid-line: begin at the next line if there is one
        k = data.find(b"\n", lo)
        if 0 <= k < n - 1:
            cut = k + 1
    at = advance(s, data, 0, cut)
    if at.clean:
        return cut
    off = first_clean(data, at, cut)
    if off is None and cut > lo:               # the last lines lie inside one sequence: take it whole
        off = first_clean(data, advance(s, data, 0, lo), lo)
    return off


# Aborts any half-received sequence (CAN), resets colours and attributes (SGR 0), the G0
# character set (ESC ( B, SI) and shows the cursor; then the visible line.
RESET = b"\x18\x1b[0m\x1b(B\x0f\x1b[?25h"


def skip_marker(skipped: int, at_line_start: bool) -> bytes:
    """What a client is shown in place of `skipped` bytes of discarded output (docs/PROTOCOL.md)."""
    lead = b"" if at_line_start else b"\r\n"
    return RESET + lead + b"\x1b[7m[output skipped: %d bytes]\x1b[0m\r\n" % skipped


class ReplayBuffer:
    """The most recent `limit` bytes of a stream; `snapshot()` begins at a clean point."""

    LINE_LOOKAHEAD = 4096    # how far a snapshot may start late to start at a line

    def __init__(self, limit: int):
        self.limit = limit
        self._buf = bytearray()
        self._front = CLEAN          # the parser state at the start of _buf

    def __len__(self) -> int:
        return len(self._buf)

    def append(self, data: bytes) -> None:
        self._buf += data
        extra = len(self._buf) - self.limit
        if extra > 0:
            self._front = advance(self._front, self._buf, 0, extra)
            del self._buf[:extra]

    def snapshot(self) -> bytes:
        buf = self._buf
        off = first_clean(buf, self._front)
        if off is None:
            return b""
        if off > 0 or not self._front.clean:
            k = buf.find(b"\n", off, off + self.LINE_LOOKAHEAD)
            if k >= 0 and advance(self._front, buf, 0, k + 1).clean:
                off = k + 1
        return bytes(buf[off:])


class Tail:
    """The last bytes of a skipped stream, with the parser state before each piece.

    A skip feeds it every frame of a flood (tens of thousands of a few KiB each), so `add`
    only gathers: the parser state is worked out once per `SETTLE` bytes, on one joined
    piece, when the state or the suffix is asked for.
    """

    SETTLE = 65536

    def __init__(self, keep: int, state: State):
        self.keep = keep
        self.total = 0
        self._end = state
        self._pieces: deque[tuple[State, bytes]] = deque()
        self._size = 0
        self._raw: list[bytes] = []
        self._raw_size = 0

    def add(self, data: bytes) -> None:
        self._raw.append(data)
        self._raw_size += len(data)
        self.total += len(data)
        if self._raw_size >= self.SETTLE:
            self._settle()

    @property
    def end_state(self) -> State:
        self._settle()
        return self._end

    def _settle(self) -> None:
        if not self._raw:
            return
        data = self._raw[0] if len(self._raw) == 1 else b"".join(self._raw)
        self._raw.clear()
        self._raw_size = 0
        self._pieces.append((self._end, data))
        self._end = advance(self._end, data)
        self._size += len(data)
        while len(self._pieces) > 1 and self._size - len(self._pieces[0][1]) >= self.keep:
            self._size -= len(self._pieces.popleft()[1])

    def clean_suffix(self, lines: int) -> bytes | None:
        """About the last `lines` lines (at most `keep` bytes) from a clean point; None if there is none."""
        self._settle()
        if not self._pieces:
            return b""
        buf = b"".join(p for _, p in self._pieces)
        off = clean_line_start(buf, self._pieces[0][0], lines, self.keep)
        if off is None:
            return b"" if self._end.clean else None
        return buf[off:]
