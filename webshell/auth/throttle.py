"""Refuse logins for a while after repeated failures for one user name or one address."""
from __future__ import annotations

import threading
import time


MAX_KEY = 100            # characters of a key kept (user names have at most 80)
MAX_KEYS = 10000         # past this many, keys with no recent failure are dropped


class LoginThrottle:
    """Failures per key; what anonymous clients can make it hold is bounded by MAX_KEY and MAX_KEYS."""

    def __init__(self, max_failures: int, lock_seconds: float):
        self.max_failures, self.lock_seconds = max_failures, lock_seconds
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.lock_seconds]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)    # a name only asked about is not kept
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried again for any of `keys` (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.lock_seconds - (now - times[0]) for k in keys
                     if len(times := self._recent(k[:MAX_KEY], now)) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                stale = [k for k, times in self._failures.items() if now - times[-1] >= self.lock_seconds]
                for k in stale:
                    del self._failures[k]
            for k in keys:
                times = self._failures[k[:MAX_KEY]] = self._recent(k[:MAX_KEY], now)
                times.append(now)
                del times[:-self.max_failures]     # the oldest that still counts is all retry_after needs

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k[:MAX_KEY], None)
