"""The login throttle, on Flask-Limiter's storage (memory://, or redis:// shared by every replica).

Failures count per (user name, address) and, with a higher bound, per user name from anywhere; an
address alone is bounded only by its total rate of attempts (far higher), so one client's bad logins
under made-up names never lock anyone else out, not even behind a proxy or NAT where all share an address.
"""
from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.strategies import RateLimiter

MAX_KEY = 100            # characters of a name kept in a key (user names have at most 80)


class LoginThrottle:
    """Failures in a moving window of `lock_seconds`; what an anonymous client can make it hold is bounded:
    only failures are stored, each key at most MAX_KEY characters of name, each for `lock_seconds`."""

    def __init__(self, limiter: RateLimiter, max_failures: int, max_failures_per_user: int, lock_seconds: float):
        seconds = max(1, int(round(lock_seconds)))
        self._limiter = limiter
        self._pair = RateLimitItemPerSecond(max_failures, seconds, namespace="kws-login-pair")
        self._user = RateLimitItemPerSecond(max_failures_per_user, seconds, namespace="kws-login-user")

    def _keys(self, name: str, address: str | None):
        name = name.lower()[:MAX_KEY]
        return ((self._pair, (name, address or "-")), (self._user, (name,)))

    def retry_after(self, name: str, address: str | None) -> int:
        """Whole seconds until `name` may try again from `address` (0 when it may now)."""
        now = time.time()
        waits = [self._limiter.get_window_stats(item, *ids).reset_time - now
                 for item, ids in self._keys(name, address) if not self._limiter.test(item, *ids)]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, name: str, address: str | None) -> None:
        for item, ids in self._keys(name, address):
            self._limiter.hit(item, *ids)

    def succeeded(self, name: str, address: str | None) -> None:
        for item, ids in self._keys(name, address):
            self._limiter.clear(item, *ids)
