"""The exec websocket's frame codec against websocket-client's own encoder, and a scripted server."""
from __future__ import annotations

import os
import struct

import pytest
import websocket

from webshell.kube import wire


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 125, 126, 511, 512, 513, 1000, 65535, 65536, 128 * 1024 + 5])
def test_client_frames_match_websocket_client(n):
    payload, key = os.urandom(n), os.urandom(4)
    theirs = websocket.ABNF(1, 0, 0, 0, websocket.ABNF.OPCODE_BINARY, 1, payload)
    theirs.get_mask_key = lambda _: key
    assert wire.client_frame(wire.BINARY, payload, key) == theirs.format()
    assert wire.mask(key, wire.mask(key, payload)) == payload


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 126, n)
    else:
        head = struct.pack("!BBQ", first, 127, n)
    return head + payload


class Peer:
    """Delivers a byte stream in awkward pieces and keeps what the reader sends back."""

    def __init__(self, data: bytes, piece: int):
        self.data, self.piece, self.sent = data, piece, []

    def recv(self, n: int) -> bytes:
        chunk, self.data = self.data[:min(n, self.piece)], self.data[min(n, self.piece):]
        return chunk

    def send(self, frame: bytes) -> None:
        self.sent.append(frame)


def unmasked(frame: bytes) -> tuple[int, bytes]:
    """Opcode and payload of a (short) client frame."""
    assert frame[1] & 0x80, "client frames must be masked"
    n = frame[1] & 0x7F
    return frame[0] & 0x0F, wire.mask(frame[2:6], frame[6:6 + n])


@pytest.mark.parametrize("piece", [1, 7, 16384, 1 << 20])
def test_reader_joins_fragments_answers_pings_and_stops_at_close(piece):
    big = os.urandom(300_000)
    stream = (server_frame(wire.BINARY, b"\x01hello")
              + server_frame(wire.PING, b"are you there")
              + server_frame(wire.BINARY, big[:1000], fin=False)
              + server_frame(wire.PING, b"")                      # control frames may interleave
              + server_frame(wire.CONT, big[1000:200_000], fin=False)
              + server_frame(wire.CONT, big[200_000:])
              + server_frame(wire.TEXT, b"\x03{}")
              + server_frame(wire.CLOSE, b"\x03\xe8bye")
              + server_frame(wire.BINARY, b"never read"))
    peer = Peer(stream, piece)
    reader = wire.FrameReader(peer.recv, peer.send)
    assert reader.message() == (wire.BINARY, b"\x01hello")
    assert reader.message() == (wire.BINARY, big)
    assert reader.message() == (wire.TEXT, b"\x03{}")
    assert reader.message() is None
    assert [unmasked(f) for f in peer.sent] == [(wire.PONG, b"are you there"), (wire.PONG, b""),
                                               (wire.CLOSE, b"\x03\xe8")]


@pytest.mark.parametrize("piece", [1, 7, 5000, 1 << 20])
@pytest.mark.parametrize("limit", [0, 1000, 1 << 20])
def test_messages_in_bulk_are_the_same_messages_in_the_same_order(piece, limit):
    """What `messages()` takes from its buffer in bulk equals message() after message()."""
    big = os.urandom(70_000)
    parts = ([server_frame(wire.BINARY, b"\x01" + os.urandom(k)) for k in (0, 5, 124, 125, 300, 4000)]
             + [server_frame(wire.PING, b"mid-run"),                           # a control frame stops a run
                server_frame(wire.TEXT, b"\x03{}"),
                server_frame(wire.BINARY, big),                                 # 64 KiB or more: a 127 length
                struct.pack("!BBH", 0x82, 0x80 | 126, 200) + b"abcd" + wire.mask(b"abcd", b"m" * 200),  # masked
                server_frame(wire.BINARY, b"\x01frag", fin=False), server_frame(wire.CONT, b"ment"),
                server_frame(wire.BINARY, b"\x02last")])
    stream = b"".join(parts) + server_frame(wire.CLOSE, b"")
    one = wire.FrameReader(Peer(stream, piece).recv, print)
    expected = list(iter(one.message, None))
    peer = Peer(stream, piece)
    bulk = wire.FrameReader(peer.recv, peer.send)
    got, calls = [], 0
    while (ready := bulk.messages(limit)) is not None:
        calls += 1
        assert ready and sum(len(p) for _, p in ready[:-1]) < max(limit, 1)    # the limit, give or take a frame
        got += ready
    assert got == expected and len(expected) == 11
    assert [unmasked(f)[0] for f in peer.sent] == [wire.PONG, wire.CLOSE]
    if piece == 1 << 20 and limit == 1 << 20:
        assert calls <= 5                                   # runs of buffered frames came in one call


def test_reader_reports_end_of_stream_and_a_cut_frame():
    frame = server_frame(wire.BINARY, b"x" * 100)
    assert wire.FrameReader(Peer(b"", 10).recv, print).message() is None
    assert wire.FrameReader(Peer(frame[:50], 10).recv, print).message() is None


def test_has_frame_only_when_a_whole_frame_is_buffered():
    peer = Peer(server_frame(wire.BINARY, b"a" * 300) + server_frame(wire.BINARY, b"b" * 300), 400)
    reader = wire.FrameReader(peer.recv, peer.send)
    assert not reader.has_frame()
    assert reader.message() == (wire.BINARY, b"a" * 300)      # the first read also got part of the next
    assert not reader.has_frame()
    assert reader.message() == (wire.BINARY, b"b" * 300)


@pytest.mark.parametrize("stream, why", [
    (server_frame(wire.CONT, b"x"), "continuation frame without a message"),
    (server_frame(wire.BINARY, b"x", fin=False) + server_frame(wire.TEXT, b"y"), "new message began"),
    (bytes([0x82 | 0x40, 1]) + b"x", "reserved bits"),
    (bytes([0x83, 1]) + b"x", "unknown opcode"),
    (struct.pack("!BBQ", 0x82, 127, wire.MAX_MESSAGE + 1), "a frame of"),
])
def test_reader_refuses_broken_streams(stream, why):
    with pytest.raises(wire.ProtocolError, match=why):
        wire.FrameReader(Peer(stream, 1 << 20).recv, print).message()
