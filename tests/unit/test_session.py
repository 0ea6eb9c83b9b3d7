"""TerminalSession driven by a scripted stream: window and acks, generations, detached reading, close."""
from __future__ import annotations

import threading
import time

import pytest

from webshell.kube.conn import Target
from webshell.terminal.session import Limits, TerminalSession

from .fakes import FakeStream, FakeTransport, ThreadRuntime, wait_until

TARGET = Target("c", "ns", "pod", "main")


class Ended:
    def __init__(self):
        self.calls = []

    def __call__(self, session, sid, code, reason):
        self.calls.append((sid, code, reason))


def make(limits=Limits(replay_bytes=64, window=32, batch=16), hangup=None, initial=b""):
    stream, tr, ended = FakeStream(), FakeTransport(auto_ack=False), Ended()
    s = TerminalSession("1", TARGET, ["bash"], stream, limits, ThreadRuntime(),
                        lambda sess, sid, data, ack: tr.output(sid, sess.id, data, ack), ended, initial, hangup)
    return s, stream, tr, ended


def test_output_stops_at_the_window_and_resumes_on_acks():
    s, stream, tr, _ = make()
    s.attach("sid-1")
    s.start()
    stream.out(b"x" * 100)
    tr.wait(lambda: len(tr.data()) >= 32)
    wait_until(lambda: stream.pending() == 0)
    assert len(tr.data()) == 32            # two batches of 16, then the window is full
    assert all(len(d) <= 16 for _, _, d in tr.outputs)
    for ack in list(tr.acks):
        ack()
    tr.wait(lambda: len(tr.data()) >= 64)
    while len(tr.data()) < 100:
        for ack in list(tr.acks):
            ack()
        tr.wait(lambda: True)
    assert tr.data() == b"x" * 100
    s.close("test over")


def test_acks_of_an_earlier_attachment_are_ignored():
    s, stream, tr, _ = make()
    s.attach("old")
    s.start()
    stream.out(b"a" * 40)
    tr.wait(lambda: len(tr.data("old")) == 32)
    stale = list(tr.acks)
    s.attach("new")                       # generation bump: in-flight starts from zero
    tr.wait(lambda: len(tr.data("new")) == 8)
    stream.out(b"b" * 60)
    tr.wait(lambda: len(tr.data("new")) == 40)   # 8 + 16 + 16: the window (32) is full again
    for ack in stale:                     # late acks of the old socket free nothing
        ack()
    wait_until(lambda: stream.pending() == 0)
    time.sleep(0.3)
    assert len(tr.data("new")) == 40
    s.close("test over")


def test_detached_session_reads_up_to_the_replay_bound_then_stops():
    s, stream, tr, _ = make(Limits(replay_bytes=64, window=1024, batch=16))
    s.start()                             # no client yet
    for i in range(10):
        stream.out(bytes([65 + i]) * 16)  # 160 bytes in 10 frames
    wait_until(lambda: stream.pending() <= 6)
    assert stream.pending() >= 5          # it stopped reading: the process blocks, nothing is dropped
    replay = s.attach("sid")
    assert len(replay) == 64 and replay == b"A" * 16 + b"B" * 16 + b"C" * 16 + b"D" * 16
    tr.wait(lambda: len(tr.data("sid")) == 160 - 64)
    s.close("test over")


def test_replay_keeps_only_the_newest_bytes():
    s, stream, tr, _ = make(Limits(replay_bytes=10, window=1024, batch=4))
    tr.auto_ack = True
    s.attach("sid")
    s.start()
    stream.out(b"0123456789abcdefghij")
    tr.wait(lambda: len(tr.data()) == 20)
    assert s.attach("sid2") == b"abcdefghij"
    s.close("test over")


def test_remote_exit_reports_its_code_and_needs_no_hang_up():
    hangups = []
    s, stream, tr, ended = make(hangup=lambda: hangups.append(1) or True)
    s.attach("sid")
    s.start()
    stream.out(b"bye\n")
    stream.exit(3)
    wait_until(lambda: ended.calls)
    assert ended.calls == [("sid", 3, "exited with code 3")]
    assert s.wait_finished(2) and hangups == []


@pytest.mark.parametrize("how", ["user", "stream_drop", "twice"])
def test_every_close_path_ends_once_and_hangs_up(how):
    hangups = []
    s, stream, tr, ended = make(hangup=lambda: hangups.append(1) or True)
    s.attach("sid")
    s.start()
    if how == "stream_drop":
        stream.end()
    else:
        s.close("closed by the user")
        if how == "twice":
            s.close("again")
    wait_until(lambda: ended.calls)
    assert s.wait_finished(2)
    assert len(ended.calls) == 1 and hangups == [1]
    reason = ended.calls[0][2]
    assert reason == ("connection to the container closed" if how == "stream_drop" else "closed by the user")
    assert stream.closed and not s.write(b"x") and not s.resize(80, 24)


def test_initial_output_is_delivered_first():
    s, stream, tr, _ = make(initial=b"motd\n")
    tr.auto_ack = True
    s.attach("sid")
    s.start()
    stream.out(b"prompt$ ")
    tr.wait(lambda: tr.data() == b"motd\nprompt$ ")
    s.close("test over")


def test_detach_of_another_socket_changes_nothing():
    s, *_ = make()
    s.attach("a")
    assert s.detach("b") is False and s.sid == "a"
    assert s.detach("a") is True and s.sid is None and s.detached_at is not None


class PausingRuntime(ThreadRuntime):
    """Records the pump's rests; a rest (sleep > 0) lasts until the test lets it end."""

    def __init__(self):
        self.sleeps: list[float] = []
        self._go = threading.Semaphore(0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            assert self._go.acquire(timeout=10), "the test never ended the rest"

    def end_rest(self) -> None:
        self._go.release()


def _streaming(coalesce: float):
    """A running session with a 64 KiB batch that gathers output for `coalesce` s (rests gated)."""
    limits = Limits(replay_bytes=1 << 20, window=1 << 20, batch=65536, coalesce=coalesce, coalesce_min=4096)
    stream, tr, rt = FakeStream(), FakeTransport(), PausingRuntime()
    s = TerminalSession("1", TARGET, ["bash"], stream, limits, rt,
                        lambda sess, sid, data, ack: tr.output(sid, sess.id, data, ack), Ended())
    s.attach("sid")
    s.start()
    return s, stream, tr, rt


def test_streaming_output_gathers_into_fewer_events_and_echoes_go_at_once():
    s, stream, tr, rt = _streaming(0.5)
    stream.out(b"a" * 5000)                           # a streaming program's first piece
    tr.wait(lambda: len(tr.outputs) == 1)
    wait_until(lambda: 0.5 in rt.sleeps)               # it went out at once, then the pump rests
    for _ in range(3):                                 # what arrives meanwhile ...
        stream.out(b"b" * 5000)
    rt.end_rest()
    tr.wait(lambda: len(tr.outputs) == 2)              # ... goes out as one event
    assert [len(d) for _, _, d in tr.outputs] == [5000, 15000]
    wait_until(lambda: rt.sleeps.count(0.5) == 2)      # still streaming: it rests again
    rt.end_rest()
    stream.out(b"k")                                   # a keystroke's echo: out at once, no rest
    tr.wait(lambda: len(tr.outputs) == 3)
    wait_until(lambda: len(rt.sleeps) == 3)
    assert rt.sleeps == [0.5, 0.5, 0]
    stream.out(b"c" * 70000)                           # faster than a batch: no rest either
    tr.wait(lambda: len(tr.data()) == 5000 + 15000 + 1 + 70000)
    wait_until(lambda: len(rt.sleeps) == 4)
    assert rt.sleeps[3] == 0
    s.close("test over")


def test_streaming_output_is_not_gathered_when_coalescing_is_off():
    s, stream, tr, rt = _streaming(0)
    stream.out(b"a" * 5000)
    tr.wait(lambda: len(tr.outputs) == 1)
    wait_until(lambda: len(rt.sleeps) == 1)
    assert rt.sleeps == [0]
    s.close("test over")


def test_an_empty_frame_first_in_a_skip_does_not_end_the_session():
    # The frame the pump was waiting for when the interrupt came starts the skip; an empty
    # one (a channel byte and nothing else) once counted as "the stream ended".
    limits = Limits(replay_bytes=1 << 20, window=1 << 20, batch=65536, skip_quiet=0.05, skip_max=2, coalesce=0)
    s, stream, tr, _ = make(limits)
    s.attach("sid")
    s.start()
    stream.out(b"y\n" * 50000)                         # a flood, not acknowledged: 100 KB pending
    tr.wait(lambda: len(tr.data()) == 100000)
    wait_until(lambda: stream.waiting)                 # the pump waits inside read()
    s.write(b"\x03")
    stream.out(b"")
    wait_until(lambda: stream.reads == 2)
    stream.out(b"^C\r\n$ ")
    tr.wait(lambda: tr.data().endswith(b"$ "))
    assert not s.closed
    s.close("test over")


def test_small_outputs_are_acknowledged_in_bulk():
    """Echoes ask for no acknowledgement; the next one asked for covers them (docs/PROTOCOL.md)."""
    s, stream, tr, _ = make(Limits(replay_bytes=64, window=4096, batch=1024, ack_min=512, ack_every=100))
    s.attach("sid-1")
    s.start()
    for i in range(9):                       # nine keystroke echoes, one output each
        stream.out(b"k")
        tr.wait(lambda: len(tr.outputs) == i + 1)
    assert tr.acks == [] and s._in_flight == 9
    stream.out(b"x" * 91)                     # 100 bytes unacknowledged: this one asks, for all of them
    tr.wait(lambda: len(tr.acks) == 1)
    tr.acks[0]()
    wait_until(lambda: s._in_flight == 0)
    stream.out(b"y" * 600)                    # big enough to ask on its own
    tr.wait(lambda: len(tr.acks) == 2)
    assert len(tr.outputs) == 11
    tr.acks[1]()
    wait_until(lambda: s._in_flight == 0)
    s.close("test over")


def test_unacknowledged_small_outputs_never_hold_more_than_a_quarter_window():
    s, stream, tr, _ = make(Limits(replay_bytes=64, window=64, batch=16, ack_min=512, ack_every=10_000))
    s.attach("sid-1")
    s.start()
    for i in range(8):
        stream.out(b"e" * 4)
        tr.wait(lambda: len(tr.outputs) == i + 1)
    assert len(tr.acks) == 2                 # every 16 bytes (64 / 4), not every 10 000
    s.close("test over")
