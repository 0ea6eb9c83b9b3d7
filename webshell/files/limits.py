"""How many transfers run at once (the server-wide MAX_TRANSFERS), and size errors."""
from __future__ import annotations

import threading

from ..errors import LimitReached, WebshellError


class TooLarge(WebshellError):
    code, status = "too_large", 413


class LengthRequired(WebshellError):
    code, status = "length_required", 411


class Slots:
    """A counter of running transfers; `take()` refuses beyond the limit instead of queueing."""

    def __init__(self, limit: int):
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> "Slot":
        with self._lock:
            if self._used >= self.limit:
                raise LimitReached(f"the server is running its limit of {self.limit} transfers; try again soon")
            self._used += 1
        return Slot(self)

    def _give(self) -> None:
        with self._lock:
            self._used -= 1

    @property
    def used(self) -> int:
        return self._used


class Slot:
    """One taken slot; `release()` is idempotent."""

    def __init__(self, slots: Slots):
        self._slots = slots
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._slots._give()   # noqa: SLF001
