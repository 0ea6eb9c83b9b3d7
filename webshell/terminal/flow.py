"""How fast a client drains a terminal's output, measured from its acknowledgements, and how
long a pump lets streaming output gather (pure)."""
from __future__ import annotations

import math


class DrainMeter:
    """Bytes per second a client processes output, from when each batch was sent and acknowledged.

    A batch keeps the client busy from when it was sent, or from the previous
    acknowledgement if the client was still busy then, until its own acknowledgement.
    Batches smaller than `min_sample` (keystroke echoes) say more about the network's
    round trip than about the client's speed and are not counted. Older samples fade
    with a time constant of `horizon` seconds.
    """

    def __init__(self, horizon: float = 2.0, min_sample: int = 2048):
        self.horizon, self.min_sample = horizon, min_sample
        self._bytes = 0.0
        self._secs = 0.0
        self._samples = 0
        self._last_ack = -math.inf
        self._last_sample: float | None = None

    def acked(self, n: int, sent_at: float, now: float) -> None:
        busy_from = max(sent_at, self._last_ack)
        self._last_ack = max(self._last_ack, now)
        if n < self.min_sample:
            return
        if self._last_sample is not None:
            fade = math.exp(-max(0.0, now - self._last_sample) / self.horizon)
            self._bytes *= fade
            self._secs *= fade
        self._last_sample = now
        self._bytes += n
        self._secs += max(now - busy_from, 1e-4)
        self._samples += 1

    def rate(self) -> float | None:
        """Bytes per second, or None before two samples."""
        if self._samples < 2 or self._secs <= 0:
            return None
        return self._bytes / self._secs


class RecentBytes:
    """Bytes read over about the last `horizon` seconds: a sum whose older parts fade out.

    An interrupt asks it whether a flood is under way. Unlike a count of bytes read since
    the stream was last momentarily empty, it does not forget a flood whose pieces reach
    the console with gaps between them (a console that keeps up with its socket, while
    megabytes still wait in the API server).
    """

    def __init__(self, horizon: float = 1.0):
        self.horizon = horizon
        self._n = 0.0
        self._at = 0.0

    def add(self, n: int, now: float) -> None:
        self._n = self.value(now) + n
        self._at = now

    def value(self, now: float) -> float:
        if not self._n:
            return 0.0
        return self._n * math.exp(-max(0.0, now - self._at) / self.horizon)

    def clear(self) -> None:
        self._n = 0.0


def budget(rate: float | None, lag: float, floor: int, ceiling: int) -> int:
    """What may queue for a client draining `rate` bytes/s so that it lags about `lag` s, within bounds."""
    if rate is None:
        return ceiling
    return int(max(floor, min(ceiling, rate * lag)))


def gather_rest(got: int, batch: int, coalesce: float, coalesce_min: int) -> float:
    """How long a pump rests after sending a batch of `got` bytes, letting output gather.

    A stream that produces output slower than the pump reads it (a flood paced by the
    container, a busy log) would otherwise go out as one small `output` per frame: a few
    KiB each, every one costing the console, the network and the client the same
    per-message work. After a batch of `coalesce_min` bytes or more that did not fill, the
    pump rests `coalesce` seconds, so the next batch carries what arrived meanwhile.
    Keystroke echoes (smaller) and full batches (a stream faster than the client) go on
    at once.
    """
    return coalesce if coalesce and coalesce_min <= got < batch else 0
