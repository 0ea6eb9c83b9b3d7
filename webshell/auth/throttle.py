"""Refuse logins for a while after repeated failures for one user name or one address."""
from __future__ import annotations

import threading
import time


class LoginThrottle:
    def __init__(self, max_failures: int, lock_seconds: float):
        self.max_failures, self.lock_seconds = max_failures, lock_seconds
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.lock_seconds]
        self._failures[key] = times
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried again for any of `keys` (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.lock_seconds - (now - times[0]) for k in keys
                     if len(times := self._recent(k, now)) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
