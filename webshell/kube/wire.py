"""RFC 6455 frames on an exec websocket's data path: buffered reads, vectorised masking.

websocket-client opens the connection (TLS, handshake, subprotocol); after that the exec
stream reads and writes frames with this module. The library reads each frame in two or
three small socket reads and masks outgoing data in pure Python, which was a third of an
upload's time (docs/PERFORMANCE.md); here a frame is parsed from a buffer filled by large
reads, and large payloads are masked with numpy, eight bytes at a time.
"""
from __future__ import annotations

import os
import struct
from typing import Callable

import numpy as np

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
READ_SIZE = 256 * 1024          # one recv() asks for this much; TLS gives at most a record
MAX_MESSAGE = 64 * 1024 * 1024  # a server announcing more than this in one message is broken
_SMALL = 512                    # below this, masking with Python integers is faster than numpy


class ProtocolError(Exception):
    """The server sent something that is not a valid websocket frame for a client."""


def mask(key: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """`data` XOR the repeated 4-byte `key` (masking and unmasking are the same)."""
    n = len(data)
    if n < _SMALL:
        pad = (key * (n // 4 + 1))[:n]
        return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")
    out = np.frombuffer(data, dtype=np.uint8).copy()
    whole = n - n % 8
    words = out[:whole].view(np.uint64)
    words ^= np.frombuffer(key * 2, dtype=np.uint64)[0]
    if whole < n:                       # the tail starts at a multiple of 4: the key's phase is 0
        out[whole:] ^= np.frombuffer((key * 2)[:n - whole], dtype=np.uint8)
    return out.tobytes()


def client_frame(opcode: int, payload: bytes | bytearray | memoryview, key: bytes | None = None) -> bytes:
    """One final, masked client frame (RFC 6455 section 5.2); `key` is random unless given (tests)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4) if key is None else key
    return head + key + mask(key, payload)


class FrameReader:
    """Messages from a byte source: fragments joined, pings answered, a close frame ends it.

    `recv(n)` returns up to n bytes, b"" at end of stream; `send(frame_bytes)` is used
    for pongs and the answering close. Only one reader may call `message()`.
    """

    def __init__(self, recv: Callable[[int], bytes], send: Callable[[bytes], object]):
        self._recv, self._send = recv, send
        self._buf = bytearray()
        self._pos = 0

    def has_frame(self) -> bool:
        """A whole frame is already buffered (so the next `message()` may not block)."""
        return self._frame_length() is not None

    def message(self) -> tuple[int, bytes] | None:
        """The next (TEXT or BINARY, payload); None at end of stream or after a close frame."""
        parts: list[bytes] = []
        first = None
        size = 0
        while True:
            frame = self._frame()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == PING:
                self._send(client_frame(PONG, payload))
                continue
            if opcode == PONG:
                continue
            if opcode == CLOSE:
                try:
                    self._send(client_frame(CLOSE, payload[:2]))
                except OSError:
                    pass
                return None
            if opcode in (TEXT, BINARY):
                if first is not None:
                    raise ProtocolError("a new message began inside a fragmented one")
                first = opcode
            elif opcode == CONT:
                if first is None:
                    raise ProtocolError("a continuation frame without a message")
            else:
                raise ProtocolError(f"unknown opcode {opcode}")
            size += len(payload)
            if size > MAX_MESSAGE:
                raise ProtocolError(f"a message longer than {MAX_MESSAGE} bytes")
            if fin and not parts:
                return first, payload
            parts.append(payload)
            if fin:
                return first, b"".join(parts)

    def messages(self, limit: int) -> list[tuple[int, bytes]] | None:
        """The next message, then every whole message already buffered, up to about `limit` bytes.

        A flood arrives as tens of thousands of small frames; taking those already read in
        one call costs a few attribute lookups each instead of a method chain. Only final,
        unmasked TEXT or BINARY frames are taken this way: a control frame, a fragment or
        anything unusual stops the run and waits for the next `message()`, which handles it.
        None at end of stream or after a close frame (as `message()`).
        """
        first = self.message()
        if first is None:
            return None
        out = [first]
        size = len(first[1])
        buf, pos = self._buf, self._pos
        end = len(buf)
        while size < limit and end - pos >= 2:
            b0, n = buf[pos], buf[pos + 1]
            if b0 != 0x82 and b0 != 0x81 or n & 0x80:     # FIN with TEXT/BINARY, no RSV bits, not masked
                break
            head = 2
            if n == 126:
                if end - pos < 4:
                    break
                n, head = (buf[pos + 2] << 8) | buf[pos + 3], 4
            elif n == 127:
                break                                       # 64 KiB or more: message() checks the size
            body = pos + head
            if end - body < n:
                break
            out.append((b0 & 0x0F, bytes(buf[body:body + n])))
            pos = body + n
            size += n
        self._pos = pos
        return out

    # ---- frames ----------------------------------------------------------------
    def _frame_length(self) -> tuple[int, int] | None:
        """(header length, payload length) of the buffered frame, None if not all buffered."""
        avail = len(self._buf) - self._pos
        if avail < 2:
            return None
        b1 = self._buf[self._pos + 1]
        n, head = b1 & 0x7F, 2
        if n == 126:
            if avail < 4:
                return None
            n, head = struct.unpack_from("!H", self._buf, self._pos + 2)[0], 4
        elif n == 127:
            if avail < 10:
                return None
            n, head = struct.unpack_from("!Q", self._buf, self._pos + 2)[0], 10
        if b1 & 0x80:
            head += 4
        if n > MAX_MESSAGE:
            raise ProtocolError(f"a frame of {n} bytes")
        return (head, n) if avail >= head + n else None

    def _frame(self) -> tuple[bool, int, bytes] | None:
        while True:
            lengths = self._frame_length()
            if lengths is not None:
                break
            if not self._fill():
                return None
        head, n = lengths
        start = self._pos
        b0, b1 = self._buf[start], self._buf[start + 1]
        if b0 & 0x70:
            raise ProtocolError("reserved bits set without a negotiated extension")
        body = start + head
        payload = bytes(self._buf[body:body + n])
        if b1 & 0x80:                      # servers must not mask; unmask rather than misread
            payload = mask(bytes(self._buf[body - 4:body]), payload)
        self._pos = body + n
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def _fill(self) -> bool:
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        chunk = self._recv(READ_SIZE)
        if not chunk:
            return False
        self._buf += chunk
        return True
