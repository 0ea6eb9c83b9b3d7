"""TerminalSession driven by a scripted exec stream (no cluster): interrupts, cuts, lag, reattach."""
from __future__ import annotations

import re
import threading
import time
from collections import deque

from webshell.kube import frames
from webshell.kube.pods import Target
from webshell.terminal import output, skip
from webshell.terminal.session import Limits, TerminalSession

from .unit.fakes import ThreadRuntime, ready_after

MARKER = re.compile(rb"\[output skipped: (\d+) bytes\]")


class Pipe:
    """A scripted exec stream: a bounded backlog (the buffers upstream) fed by a producer thread."""

    def __init__(self, backlog: int = 2 << 20):
        self.cond = threading.Condition()
        self.frames: deque = deque()
        self.size, self.backlog = 0, backlog
        self.closed = False
        self.writes: list[bytes] = []
        self.resizes: list[tuple[int, int]] = []
        self.recv_buffers: list[int] = []
        self.on_write = None

    def feed(self, data: bytes, channel: int = frames.STDOUT, block: bool = True) -> bool:
        with self.cond:
            while block and self.size >= self.backlog and not self.closed:
                self.cond.wait(0.1)
            if self.closed:
                return False
            self.frames.append((channel, data))
            self.size += len(data)
            self.cond.notify_all()
            return True

    def read(self):
        with self.cond:
            while not self.frames and not self.closed:
                self.cond.wait()
            return self._queued()          # the condition's lock is an RLock

    def read_ready(self, limit: int):
        return ready_after(self.read(), self._queued, limit)

    def _queued(self):
        with self.cond:
            if not self.frames:
                return None
            frame = self.frames.popleft()
            self.size -= len(frame[1])
            self.cond.notify_all()
            return frame

    def readable_now(self) -> bool:
        return bool(self.frames)

    def write(self, data: bytes) -> bool:
        self.writes.append(data)
        if self.on_write:
            self.on_write(data)
        return True

    def resize(self, cols: int, rows: int) -> bool:
        self.resizes.append((cols, rows))
        return True

    def limit_receive_buffer(self, n: int) -> None:
        self.recv_buffers.append(n)

    def close_stdin(self) -> bool:
        return False

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class Client:
    """Collects output; acknowledges each batch `delay` seconds after the previous one (in order)."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.gate = threading.Event()      # acknowledgements wait for it
        self.gate.set()
        self.data = bytearray()
        self.cond = threading.Condition()
        self.acks: deque = deque()
        self.in_flight_max = 0
        self._in_flight = 0
        threading.Thread(target=self._acker, daemon=True).start()

    def __call__(self, session, sid, chunk, ack):
        with self.cond:
            self.data += chunk
            self._in_flight += len(chunk)
            self.in_flight_max = max(self.in_flight_max, self._in_flight)
            self.acks.append((len(chunk), ack))   # ack None: not asked for; a later one covers it
            self.cond.notify_all()

    def _acker(self):
        while True:
            with self.cond:
                while not self.acks:
                    self.cond.wait()
                n, ack = self.acks.popleft()
            time.sleep(self.delay)
            self.gate.wait()
            with self.cond:
                self._in_flight -= n
            if ack is not None:
                ack()

    def wait_for(self, pattern: bytes, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        with self.cond:
            while (m := self.data.find(pattern)) < 0:
                left = deadline - time.monotonic()
                assert left > 0, f"{pattern!r} not seen; tail {bytes(self.data[-300:])!r}"
                self.cond.wait(left)
            return m


def session(pipe: Pipe, client: Client, limits: Limits | None = None, **kw) -> TerminalSession:
    limits = limits or Limits(replay_bytes=64 * 1024, window=256 * 1024, batch=16 * 1024, skip_quiet=0.1,
                              skip_max=1.5, recv_buffer_min=4096)
    s = TerminalSession("alice", Target("c", "ns", "pod", "box"), ["bash"], pipe, limits, ThreadRuntime(),
                        client, lambda *a: None, size=(80, 24), **kw)
    s.attach("sid-1")
    s.start()
    return s


class Yes:
    """`yes` behind a pty: floods until an interrupt (unless it traps SIGINT), then a prompt."""

    def __init__(self, pipe: Pipe, trap: bool = False):
        self.pipe, self.trap = pipe, trap
        self.stop = threading.Event()
        self.produced = 0
        pipe.on_write = self.typed
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        line = b"\x1b[32my\x1b[0m " + "中文".encode() + b" flood-line\r\n"
        while not self.stop.is_set():
            if not self.pipe.feed(line * 100):
                return
            self.produced += len(line) * 100

    def typed(self, data: bytes):
        if b"\x1c" in data or (b"\x03" in data and not self.trap):
            self.stop.set()
            self.thread.join()
            self.pipe.feed(b"^C\r\n$ ")
        elif data.endswith(b"\n") and self.stop.is_set():
            self.pipe.feed(data.replace(b"\n", b"\r\n") + b"after-42\r\n" + b"x" * 5000 + b"\r\n$ ")


def test_interrupt_drops_the_backlog_and_delivers_what_follows():
    pipe, client = Pipe(backlog=4 << 20), Client(delay=0.01)
    yes = Yes(pipe)
    s = session(pipe, client)
    try:
        time.sleep(1.0)
        before = len(client.data)
        t0 = time.monotonic()
        s.write(b"\x03")
        prompt = client.wait_for(b"^C\r\n$ ", timeout=5)
        took = time.monotonic() - t0
        s.write(b"echo after\n")
        at = client.wait_for(b"after-42\r\n" + b"x" * 5000 + b"\r\n$ ")   # complete, in order, after the prompt
        assert at > prompt
        after = bytes(client.data[before:])
        m = MARKER.search(after)
        assert m and int(m.group(1)) > 1 << 20, after[:300]           # megabytes of backlog skipped
        assert int(m.group(1)) == s.skipped_total
        assert after.index(m.group(0)) < after.index(b"^C\r\n$ ")
        # Delivered after the interrupt: what was in flight (the window) and a screenful, not megabytes.
        assert prompt - before < 256 * 1024 + 16 * 1024 + 4096, prompt - before
        assert took < 1.5, took
        # The client's terminal is in ground state where the marker begins, and after it.
        cut = before + after.index(output.RESET)
        assert output.advance(output.CLEAN, bytes(client.data[:cut])).clean     # the cut was completed
        assert output.advance(output.CLEAN, bytes(client.data[cut:])).clean
        assert yes.produced - len(client.data) > 1 << 20
    finally:
        s.close("test")
        yes.stop.set()


def test_the_prompt_after_a_skip_does_not_wait_for_acknowledgements():
    """A slow link's acknowledgements lag: the marker and the prompt go out beyond a full window."""
    pipe, client = Pipe(backlog=4 << 20), Client()
    yes = Yes(pipe)
    s = session(pipe, client)
    try:
        time.sleep(1.0)
        client.gate.clear()                     # from now on no acknowledgement reaches the console
        size = -1
        while size != len(client.data):        # until the window is spent
            size = len(client.data)
            time.sleep(0.3)
        s.write(b"\x03")
        prompt = client.wait_for(b"^C\r\n$ ", timeout=5)
        after = bytes(client.data[size:])
        m = MARKER.search(after)
        assert m and int(m.group(1)) > 1 << 20 and after.index(m.group(0)) < after.index(b"^C\r\n$ ")
        assert prompt - size < 32 * 1024, prompt - size          # the marker and a screenful, no more
        client.gate.set()
        s.write(b"echo after\n")
        client.wait_for(b"after-42\r\n" + b"x" * 5000 + b"\r\n$ ")
    finally:
        s.close("test")
        yes.stop.set()


def ctrl_c_after_a_second(s: TerminalSession, client: Client) -> bytes:
    """Let the flood run a second, press Ctrl-C, wait for the prompt: what arrived after the Ctrl-C."""
    time.sleep(1.0)
    before = len(client.data)
    s.write(b"\x03")
    client.wait_for(b"^C\r\n$ ", timeout=10)
    return bytes(client.data[before:])


class Relay:
    """Moves an upstream pipe's frames on in small pieces with gaps, as the API server does.

    The console then keeps up with its own socket: it finds the stream momentarily empty
    between pieces while megabytes still wait upstream.
    """

    def __init__(self, upstream: Pipe, downstream: Pipe, piece: int = 12 * 1024, gap: float = 0.001):
        self.upstream, self.downstream, self.piece, self.gap = upstream, downstream, piece, gap
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        moved = 0
        while (frame := self.upstream.read()) is not None:
            if not self.downstream.feed(frame[1], frame[0]):
                return
            moved += len(frame[1])
            if moved >= self.piece:
                moved = 0
                time.sleep(self.gap)


def test_a_flood_that_arrives_in_pieces_with_gaps_is_still_skipped():
    """A fast client and a stream read empty between pieces: the flood is judged by what was read lately."""
    upstream, pipe, client = Pipe(backlog=2 << 20), Pipe(backlog=48 * 1024), Client()
    yes = Yes(upstream)
    pipe.on_write = yes.typed
    Relay(upstream, pipe, piece=48 * 1024, gap=0.02)     # gaps longer than the pump's rest (10 ms)
    limits = Limits(replay_bytes=64 * 1024, window=256 * 1024, batch=16 * 1024, skip_quiet=0.4, skip_max=10,
                    recv_buffer_min=4096)
    s = session(pipe, client, limits)
    try:
        after = ctrl_c_after_a_second(s, client)
        m = MARKER.search(after)
        assert m and int(m.group(1)) > 1 << 20, (len(after), after[:200])   # the upstream backlog was skipped
        assert after.index(m.group(0)) < after.index(b"^C\r\n$ ")
        assert len(after) < 256 * 1024, len(after)
    finally:
        s.close("test")
        yes.stop.set()
        upstream.close()


def test_a_backlog_that_pauses_after_the_interrupt_is_still_skipped():
    """Upstream stalls (a TCP window reopening late) look like the end of the flood; the skip goes on."""
    upstream, pipe, client = Pipe(backlog=2 << 20), Pipe(backlog=48 * 1024), Client()
    yes = Yes(upstream)
    interrupted = threading.Event()

    def typed(data):
        interrupted.set()
        yes.typed(data)
    pipe.on_write = typed

    def relay():
        moved, paused = 0, False
        while (frame := upstream.read()) is not None:
            pipe.feed(frame[1], frame[0])
            moved += len(frame[1]) if interrupted.is_set() else 0
            if moved > 256 * 1024 and not paused:
                paused = True
                time.sleep(0.6)                     # six times the quiet that ends a skip
    threading.Thread(target=relay, daemon=True).start()
    limits = Limits(replay_bytes=64 * 1024, window=256 * 1024, batch=16 * 1024, skip_quiet=0.1, skip_max=10,
                    skip_rearm=2.0, recv_buffer_min=4096)
    s = session(pipe, client, limits)
    try:
        after = ctrl_c_after_a_second(s, client)
        assert len(after) < 256 * 1024, len(after)               # not the 1.5 MB after the pause
        assert s.skipped_total > 1 << 20
        assert MARKER.search(after)
    finally:
        s.close("test")
        yes.stop.set()
        upstream.close()


def test_new_input_after_a_skip_gets_its_output_whole():
    pipe, client = Pipe(backlog=4 << 20), Client()
    limits = Limits(replay_bytes=64 * 1024, window=256 * 1024, batch=16 * 1024, skip_quiet=0.1, skip_max=10,
                    skip_rearm=5.0, recv_buffer_min=4096)
    client.gate.clear()                                        # a client behind: the window fills
    s = session(pipe, client, limits)
    try:
        pipe.feed(b"y\r\n" * 200_000)                           # a flood's backlog
        time.sleep(0.3)
        s.write(b"\x03")
        pipe.feed(b"^C\r\n$ ")
        time.sleep(0.3)
        client.gate.set()
        client.wait_for(b"^C\r\n$ ", timeout=10)
        assert s.skipped_total > 100_000
        skipped = s.skipped_total
        s.write(b"seq 1 50000\n")                               # typed after the prompt: wanted
        listing = b"".join(b"%d\r\n" % i for i in range(1, 50001))
        pipe.feed(listing + b"$ ")
        client.wait_for(b"\r\n50000\r\n$ ", timeout=10)
        assert bytes(client.data).endswith(listing + b"$ ")       # whole, in order, not skipped
        assert s.skipped_total == skipped
    finally:
        s.close("test")


def test_without_a_flood_an_interrupt_skips_nothing():
    pipe, client = Pipe(), Client()
    pipe.on_write = lambda d: pipe.feed(b"^C\r\n$ ") if d == b"\x03" else None
    s = session(pipe, client)
    try:
        pipe.feed(b"$ ")
        client.wait_for(b"$ ")
        s.write(b"\x03")
        client.wait_for(b"^C\r\n$ ", timeout=1)
        assert bytes(client.data) == b"$ ^C\r\n$ " and s.skipped_total == 0
    finally:
        s.close("test")


def test_flush_on_interrupt_off_delivers_everything():
    pipe, client = Pipe(backlog=1 << 20), Client()
    yes = Yes(pipe)
    s = session(pipe, client, flush_on_interrupt=False)
    try:
        time.sleep(0.5)
        s.write(b"\x03")
        client.wait_for(b"^C\r\n$ ", timeout=20)
        assert MARKER.search(client.data) is None and s.skipped_total == 0
        assert len(client.data) == yes.produced + len(b"^C\r\n$ ")
    finally:
        s.close("test")
        yes.stop.set()


def test_a_process_that_ignores_the_interrupt_is_shown_again_after_the_bound():
    pipe, client = Pipe(backlog=1 << 20), Client(delay=0.005)
    yes = Yes(pipe, trap=True)
    s = session(pipe, client)
    try:
        time.sleep(0.5)
        s.write(b"\x03")
        t0 = time.monotonic()
        at = client.wait_for(b"[output skipped: ", timeout=5)
        assert 1.3 < time.monotonic() - t0 < 3.0                   # skip_max is 1.5 s
        n = len(client.data)
        time.sleep(0.5)
        assert len(client.data) > n + 100_000 and b"flood-line" in client.data[at:]   # delivery resumed
        assert len(s._unsent) <= s.limits.batch
        s.write(b"\x1c")                                           # Ctrl-\ still ends it
        client.wait_for(b"^C\r\n$ ", timeout=5)
    finally:
        s.close("test")
        yes.stop.set()


def test_the_cut_never_leaves_half_a_sequence_or_character():
    """The client stalls with its window full mid-sequence; the interrupt completes it, then resets."""
    pipe, client = Pipe(), Client()
    client.gate.clear()
    limits = Limits(replay_bytes=4096, window=64, batch=32, skip_quiet=0.05, skip_max=1.0, flood_bytes=16,
                    recv_buffer_min=4096)
    s = session(pipe, client, limits)
    try:
        pipe.feed(b"A" * 62 + b"\x1b[1;31mred" + "中".encode())   # 64 bytes emitted end inside the CSI
        time.sleep(0.2)
        assert bytes(client.data).endswith(b"\x1b[")
        pipe.feed(b"\x1b]0;title\x07" + b"z" * 100)
        s.write(b"\x03")
        time.sleep(0.2)
        client.gate.set()
        client.wait_for(b"[output skipped: ")
        got = bytes(client.data)
        reset = got.index(output.RESET)
        assert got[:reset] == b"A" * 62 + b"\x1b[1;31m"              # completed, nothing more
        assert output.advance(output.CLEAN, got[:reset]).clean
    finally:
        s.close("test")


def test_reattach_replays_from_a_clean_point_and_asks_for_a_redraw():
    pipe, client = Pipe(), Client()
    limits = Limits(replay_bytes=10, window=4096, batch=1024)
    s = session(pipe, client, limits)
    try:
        pipe.feed(b"abc" + b"\x1b[1;31mredder")       # the last 10 bytes begin inside the CSI
        client.wait_for(b"redder")
        assert pipe.resizes == []                     # the first attach redraws nothing
        s.detach("sid-1")
        assert s.attach("sid-2") == b"redder"
        assert pipe.resizes == [(80, 23), (80, 24)]   # a size change, and back: SIGWINCH
    finally:
        s.close("test")


def test_a_slow_client_gets_about_a_second_of_output_queued():
    pipe, client = Pipe(backlog=1 << 20), Client(delay=0.05)   # 16 KiB per 50 ms: 320 KB/s
    limits = Limits(replay_bytes=4096, window=1 << 20, batch=16 * 1024, lag=0.5, recv_buffer_min=4096)
    yes = Yes(pipe)
    s = session(pipe, client, limits)
    try:
        time.sleep(3.0)
        window = s._window()
        assert 40_000 < window < 120_000, window      # about lag/2 of 320 KB/s, not the 1 MiB configured
        assert 40_000 < pipe.recv_buffers[-1] < 120_000, pipe.recv_buffers
        client.in_flight_max = 0
        time.sleep(1.0)
        assert client.in_flight_max <= window + limits.batch
    finally:
        s.close("test")
        yes.stop.set()


class CountingRuntime(ThreadRuntime):
    """Notes when each yield (sleep(0)) happened."""

    def __init__(self):
        self.yields: list[float] = []

    def sleep(self, seconds: float) -> None:
        if seconds == 0:
            self.yields.append(time.monotonic())
        super().sleep(seconds)


def _yields_while_skipping(slice_s: float) -> int:
    """Yields to other terminals while a 4 MiB backlog (256 frames) is skipped."""
    pipe, client, rt = Pipe(backlog=8 << 20), Client(delay=0.05), CountingRuntime()
    for _ in range(256):
        pipe.feed(b"y\r\n" * 5461 + b"y\r", block=False)          # 16 KiB frames, a flood's backlog
    pipe.on_write = lambda d: pipe.feed(b"^C\r\n$ ") if d == b"\x03" else None
    limits = Limits(replay_bytes=64 * 1024, window=256 * 1024, batch=16 * 1024, skip_quiet=0.1,
                    skip_max=5, skip_slice=slice_s, coalesce=0)
    s = TerminalSession("alice", Target("c", "ns", "pod", "box"), ["bash"], pipe, limits, rt,
                        client, lambda *a: None, size=(80, 24))
    s.attach("sid-1")
    s.start()
    try:
        deadline = time.monotonic() + 10
        while len(client.data) < 128 * 1024:      # the flood under way: a window's worth in flight
            assert time.monotonic() < deadline, "the flood did not start"
            time.sleep(0.01)
        t0 = time.monotonic()
        s.write(b"\x03")
        client.wait_for(b"[output skipped: ")
        t1 = time.monotonic()
        assert s.skipped_total > 3 << 20
        return sum(1 for t in rt.yields if t0 <= t <= t1)
    finally:
        s.close("test")


def test_a_skip_yields_to_other_terminals_by_time_not_after_every_batch():
    # Beside busy neighbours a yield costs a turn of them all: one per 16 KiB batch made a
    # 10 MB backlog outlast the skip's bound. A long slice reads the backlog in one go;
    # a zero slice yields after every read of at most SKIP_READ (the bound works both ways).
    assert _yields_while_skipping(60.0) <= 1
    assert _yields_while_skipping(0.0) >= (4 << 20) // skip.SKIP_READ
