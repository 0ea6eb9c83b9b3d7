"""How many transfers run at once (the server-wide MAX_TRANSFERS), and size errors."""
from __future__ import annotations

import logging
import threading

from ..errors import LimitReached, WebshellError


log = logging.getLogger(__name__)


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

    def _give(self, token: str | None = None) -> None:
        with self._lock:
            self._used -= 1

    @property
    def used(self) -> int:
        return self._used


class SharedSlots(Slots):
    """Many replicas (KWS_MESSAGE_QUEUE): the limit counts the transfers of every replica, in Redis."""

    def __init__(self, limit: int, state):
        super().__init__(limit)
        self.state = state   # replicas.state.ReplicaState

    def take(self) -> "Slot":
        token = self.state.take_transfer(self.limit)
        if token is None:
            raise LimitReached(f"the console is running its limit of {self.limit} transfers; try again soon")
        with self._lock:
            self._used += 1
        return Slot(self, token)

    def _give(self, token: str | None = None) -> None:
        super()._give()
        try:
            self.state.give_transfer(token)
        except Exception:  # noqa: BLE001 - a lost slot is freed when this replica goes
            log.exception("could not free transfer slot %s", token)


class Slot:
    """One taken slot; `release()` is idempotent."""

    def __init__(self, slots: Slots, token: str | None = None):
        self._slots, self._token = slots, token
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._slots._give(self._token)   # noqa: SLF001
