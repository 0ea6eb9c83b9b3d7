"""Live sessions seen by admins: recording every session, and read-only watchers.

The terminal service tells this hub when a session starts and ends; the hub sets the
session's tap, which feeds the recording and every watching admin socket. Watchers
are never the session's client: input from them is refused like any non-owner's.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..errors import NotFound
from .recording import Recording, RecordingStore
from .session import TerminalSession
from .output import ReplayBuffer

log = logging.getLogger(__name__)

# (event, payload, to sid): how the hub reaches a watcher (Socket.IO emit in the app).
Emit = Callable[[str, dict, str], None]


class LiveHub:
    def __init__(self, store: RecordingStore | None, emit: Emit, tail_bytes: int):
        self.store, self._emit, self.tail_bytes = store, emit, tail_bytes
        self._watchers: dict[str, set[str]] = {}
        self._tails: dict[str, ReplayBuffer] = {}
        self._meta: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._flusher = False

    def start(self, spawn: Callable, sleep: Callable[[float], None]) -> None:
        """Write buffered recordings out every `flush_seconds` (idempotent)."""
        interval = self.store.limits.flush_seconds if self.store is not None else 0
        with self._lock:
            if self._flusher or interval <= 0:
                return
            self._flusher = True

        def loop() -> None:
            while True:
                sleep(interval)
                try:
                    self.store.flush()
                except Exception:  # noqa: BLE001 - the flusher must outlive any failure
                    log.exception("recording flush pass failed")
        spawn(loop)

    def started(self, session: TerminalSession, cols: int, rows: int, username: str) -> None:
        """Begin recording `session` and let admins watch it."""
        t = session.target
        meta = {"session": session.id, "user": username, "cluster": t.cluster, "namespace": t.namespace,
                "pod": t.pod, "container": t.container, "shell": session.shell[0], "started": time.time(),
                "title": f"{username}@{t.cluster}/{t.namespace}/{t.pod}/{t.container}"}
        rec: Recording | None = None
        if self.store is not None:
            try:
                rec = self.store.start(session.id, cols, rows, meta)
            except OSError:
                log.exception("session %s: cannot start its recording", session.id)
        with self._lock:
            self._watchers[session.id] = set()
            self._tails[session.id] = ReplayBuffer(self.tail_bytes)
            self._meta[session.id] = {**meta, "cols": cols, "rows": rows}
        session.tap = self._tap(session.id, rec)

    def _tap(self, session_id: str, rec: Recording | None) -> Callable[[str, bytes], None]:
        def tap(kind: str, data: bytes) -> None:
            if rec is not None:
                rec.event(kind, data)
            if kind == "r":
                cols, _, rows = data.decode().partition("x")
                self._meta.get(session_id, {}).update(cols=int(cols), rows=int(rows))
                for sid in self.watchers(session_id):
                    self._emit("watch_resize", {"session": session_id, "cols": int(cols), "rows": int(rows)}, sid)
            if kind != "o":
                return
            tail = self._tails.get(session_id)
            if tail is not None:
                tail.append(data)
            for sid in self.watchers(session_id):
                self._emit("output", {"session": session_id, "data": data}, sid)
        return tap

    def ended(self, session: TerminalSession, code: int | None, reason: str) -> None:
        with self._lock:
            watchers = self._watchers.pop(session.id, set())
            self._tails.pop(session.id, None)
            self._meta.pop(session.id, None)
        for sid in watchers:
            self._emit("exit", {"session": session.id, "code": code, "reason": reason}, sid)
        if self.store is not None:
            self.store.finish(session.id)

    def watchers(self, session_id: str) -> list[str]:
        with self._lock:
            return list(self._watchers.get(session_id, ()))

    def watch(self, session_id: str, sid: str) -> dict:
        """Add `sid` as a read-only watcher; returns the recent output and the terminal size."""
        with self._lock:
            if session_id not in self._watchers:
                raise NotFound("no such live session")
            self._watchers[session_id].add(sid)
            meta = dict(self._meta[session_id])
            replay = self._tails[session_id].snapshot()   # from a clean point
        return {"session": session_id, "replay": replay, "meta": meta}

    def unwatch(self, sid: str, session_id: str | None = None) -> None:
        with self._lock:
            for key, sids in self._watchers.items():
                if session_id is None or key == session_id:
                    sids.discard(sid)

    def describe(self, session: TerminalSession) -> dict:
        t = session.target
        meta = self._meta.get(session.id, {})
        return {"session": session.id, "user": meta.get("user"), "cluster": t.cluster,
                "namespace": t.namespace, "pod": t.pod, "container": t.container, "shell": session.shell[0],
                "started": session.started_at, "attached": session.sid is not None,
                "watchers": len(self.watchers(session.id)),
                "recorded": self.store is not None and self.store.path(session.id) is not None}
