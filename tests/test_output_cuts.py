"""Cut points in terminal output (webshell.terminal.output), against a byte-by-byte model, with hostile input."""
from __future__ import annotations

import random

import pytest

from webshell.terminal import flow, output
from webshell.terminal.output import CLEAN, CSI, ESC_INTER, ESCAPE, GROUND, OSC, STRING, State


def model_step(s: tuple[int, int], b: int) -> tuple[int, int]:
    """The parser one byte at a time: the reference the fast scans must agree with."""
    mode, need = s
    if b == 0x1B:
        return ESCAPE, 0
    if b in (0x18, 0x1A):
        return GROUND, 0
    if mode == GROUND:
        if need and 0x80 <= b < 0xC0:
            return GROUND, need - 1
        return GROUND, (1 if 0xC2 <= b <= 0xDF else 2 if 0xE0 <= b <= 0xEF else 3 if 0xF0 <= b <= 0xF4 else 0)
    if mode == ESCAPE:
        if 0x20 <= b <= 0x2F:
            return ESC_INTER, 0
        if b == 0x5B:
            return CSI, 0
        if b == 0x5D:
            return OSC, 0
        if b in (0x50, 0x58, 0x5E, 0x5F):
            return STRING, 0
        if 0x30 <= b <= 0x7E:
            return GROUND, 0
        if b < 0x20 or b == 0x7F:
            return ESCAPE, 0
        return model_step((GROUND, 0), b)
    if mode in (CSI, ESC_INTER):
        top = 0x3F if mode == CSI else 0x2F
        if b < 0x20 or b == 0x7F or 0x20 <= b <= top:
            return mode, 0
        if (0x40 if mode == CSI else 0x30) <= b <= 0x7E:
            return GROUND, 0
        return model_step((GROUND, 0), b)
    if mode == OSC:
        return (GROUND, 0) if b == 0x07 else (OSC, 0)
    return STRING, 0


def model_states(data: bytes, s=(GROUND, 0)) -> list[tuple[int, int]]:
    """The state before each byte and after the last one (len(data) + 1 entries)."""
    out = [s]
    for b in data:
        s = model_step(s, b)
        out.append(s)
    return out


def model_clean(states, data: bytes, j: int) -> bool:
    """A clean cut before data[j]: ground, or a broken character that data[j] does not continue."""
    mode, need = states[j]
    return mode == GROUND and (need == 0 or (j < len(data) and not 0x80 <= data[j] < 0xC0))


ALPHABET = b"\x1b\x1b[]P\\\x07\x18\x1a0;m(BAx\n\r\xc3\xa4\xe4\xb8\xad\xf0\x9f\x98\x80\xff\x00\x7f X^_"


def hostile(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice(ALPHABET) for _ in range(n))


def st(s: tuple[int, int]) -> State:
    return State(*s)


@pytest.mark.parametrize("seed", range(6))
def test_advance_agrees_with_the_model_however_the_stream_is_split(seed):
    rng = random.Random(seed)
    for _ in range(400):
        data = hostile(rng, rng.randrange(0, 120))
        states = model_states(data)
        assert output.advance(CLEAN, data) == st(states[-1]), data
        k = rng.randrange(0, len(data) + 1)
        assert output.advance(output.advance(CLEAN, data[:k]), data[k:]) == st(states[-1]), (data, k)
        assert output.advance(CLEAN, data, 0, k) == st(states[k]), (data, k)


@pytest.mark.parametrize("seed", range(4))
def test_first_clean_is_the_first_clean_offset(seed):
    rng = random.Random(100 + seed)
    for _ in range(400):
        data = hostile(rng, rng.randrange(0, 80))
        states = model_states(data)
        i = rng.randrange(0, len(data) + 1)
        want = next((j for j in range(i, len(data) + 1) if model_clean(states, data, j)), None)
        assert output.first_clean(data, st(states[i]), i) == want, (data, i)


def test_known_sequences():
    assert output.advance(CLEAN, b"\x1b[38;5;1") == State(CSI)
    assert output.advance(CLEAN, b"\x1b[38;5;1m") == CLEAN
    assert output.advance(CLEAN, b"\x1b]0;title") == State(OSC)
    assert output.advance(CLEAN, b"\x1b]0;title\x07") == CLEAN
    assert output.advance(CLEAN, b"\x1b]8;;http://x\x1b\\link") == CLEAN
    assert output.advance(CLEAN, b"\x1bPq#0;2;0;0;0~~~~") == State(STRING)
    assert output.advance(CLEAN, b"\x1bPq#0~~\x18") == CLEAN          # CAN aborts a string
    smile = "😀".encode()
    for k in range(1, 4):
        assert output.advance(CLEAN, smile[:k]) == State(GROUND, 4 - k)
        assert output.first_clean(smile, State(GROUND, 0), 0) == 0
        assert output.first_clean(smile, output.advance(CLEAN, smile[:k]), k) == 4


@pytest.mark.parametrize("seed", range(3))
def test_line_start_and_tail_begin_clean(seed):
    rng = random.Random(200 + seed)
    for _ in range(300):
        data = hostile(rng, rng.randrange(0, 200))
        states = model_states(data)
        lines, cap = rng.randrange(1, 6), rng.randrange(1, 120)
        off = output.clean_line_start(data, CLEAN, lines, cap)
        if off is None:
            assert not any(model_clean(states, data, j) for j in range(max(0, len(data) - cap), len(data) + 1))
        else:
            assert model_clean(states, data, off) and off >= len(data) - cap
        tail = output.Tail(cap, CLEAN)
        tail.SETTLE = rng.randrange(1, 80)      # pieces settled together, as under a flood
        pos = 0
        while pos < len(data):
            step = rng.randrange(1, 40)
            tail.add(data[pos:pos + step])
            pos += step
        shown = tail.clean_suffix(lines)
        assert tail.total == len(data) and tail.end_state == st(states[-1])
        if shown is not None:
            assert data.endswith(shown) and model_clean(states, data, len(data) - len(shown))


def test_tail_keeps_whole_lines_after_a_flood():
    tail = output.Tail(1000, CLEAN)
    for _ in range(5000):
        tail.add(b"\x1b[32my\x1b[0m\n")
    tail.add(b"^C\r\n\x1b[1m$ \x1b[0m")
    shown = tail.clean_suffix(3)
    assert shown == b"\x1b[32my\x1b[0m\n^C\r\n\x1b[1m$ \x1b[0m"   # the prompt is the third line
    assert tail.total == 5000 * len(b"\x1b[32my\x1b[0m\n") + len(b"^C\r\n\x1b[1m$ \x1b[0m")


@pytest.mark.parametrize("seed", range(3))
def test_replay_snapshot_starts_clean(seed):
    rng = random.Random(300 + seed)
    for _ in range(200):
        stream = hostile(rng, rng.randrange(0, 300))
        states = model_states(stream)
        buf = output.ReplayBuffer(rng.randrange(1, 100))
        pos = 0
        while pos < len(stream):
            step = rng.randrange(1, 30)
            buf.append(stream[pos:pos + step])
            pos += step
        snap = buf.snapshot()
        assert stream.endswith(snap) and len(snap) <= buf.limit
        kept = min(len(stream), buf.limit)
        if not model_clean(states, stream, len(stream) - len(snap)):
            # only an empty snapshot, when nothing kept is a clean place to start
            assert not snap and not any(model_clean(states, stream, j) for j in range(len(stream) - kept, len(stream)))


def test_replay_never_starts_inside_a_character_or_sequence():
    buf = output.ReplayBuffer(20)
    buf.append(b"old line\n" + "中文".encode() + b"\x1b[1;31mred\x1b[0m tail")
    assert buf.snapshot() == b"\x1b[1;31mred\x1b[0m tail"   # the cut fell inside 文: after it
    buf = output.ReplayBuffer(17)
    buf.append(b"old line\n" + "中文".encode() + b"\x1b[1;31mred\x1b[0m tail")
    assert buf.snapshot() == b"red\x1b[0m tail"              # inside "\x1b[1;31m": after it
    buf = output.ReplayBuffer(7)
    buf.append("x中文".encode())          # 7 bytes: the limit cuts nothing
    assert buf.snapshot() == "x中文".encode()
    buf.append(b"!!")                     # now the first byte of 中 is gone too
    assert buf.snapshot() == "文!!".encode()


def test_marker_resets_then_says_how_much():
    m = output.skip_marker(1234567, at_line_start=False)
    assert m.startswith(output.RESET + b"\r\n") and b"[output skipped: 1234567 bytes]" in m
    assert m.endswith(b"\r\n") and output.advance(State(STRING), m) == CLEAN
    assert not output.skip_marker(5, at_line_start=True)[len(output.RESET):].startswith(b"\r\n")


def test_drain_meter_measures_busy_time_not_idle_time():
    m = flow.DrainMeter()
    assert m.rate() is None
    t = 0.0
    for _ in range(10):        # a client that takes 50 ms per 64 KiB batch, batches queued
        m.acked(65536, 0.0, t + 0.05)
        t += 0.05
    assert m.rate() == pytest.approx(65536 / 0.05, rel=0.01)
    m.acked(10, t, t + 5)      # a keystroke echo after a pause says nothing about speed
    assert m.rate() == pytest.approx(65536 / 0.05, rel=0.01)
    assert flow.budget(None, 1.0, 10, 100) == 100
    assert flow.budget(1e9, 1.0, 10, 100) == 100 and flow.budget(1.0, 1.0, 10, 100) == 10


def test_recent_bytes_count_a_flood_across_gaps_and_forget_it_after_the_horizon():
    r = flow.RecentBytes(horizon=1.0)
    assert r.value(0.0) == 0
    t = 0.0
    for _ in range(50):        # 16 KiB every 20 ms, the stream read empty between pieces
        r.add(16384, t)
        t += 0.02
    assert r.value(t) > 400_000                              # about a second's worth: a flood
    assert r.value(t + 3.0) < r.value(t) / 15                # three horizons on: faded
    r.clear()
    assert r.value(t) == 0
