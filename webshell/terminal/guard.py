"""Who is behind each terminal socket, and cutting them off when that changes.

The guard keeps the identity each socket authenticated with at connect (a user, and the
API token when one was used) and which sessions were opened with a token. Every
`interval` seconds it asks a checker (the database, in the app) which of those users are
no longer active and which tokens no longer usable, and cuts them: a user disabled or a
token revoked from any process loses its sockets and its terminals within seconds. No
event on the hot path (input, resize, acks) touches the database: the identity is checked
at connect and by this loop.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """A socket's user (id as a string, and name) and the token it used (None: the session cookie)."""

    uid: str
    username: str
    token_id: int | None = None
    login_version: int | None = None     # cookie logins: the session version they were made with


# (user ids, token ids, cookie logins as (user id, session version)) ->
# (the user ids no longer active, the token ids no longer usable, the logins revoked since)
Checker = Callable[[set[str], set[int], set[tuple[str, int | None]]],
                   tuple[set[str], set[int], set[tuple[str, int | None]]]]


class SocketGuard:
    """Identities of connected sockets and of token-opened sessions; the periodic re-check."""

    def __init__(self, interval: float, check: Checker, cut_user: Callable[[str, str], None],
                 cut_socket: Callable[[str], None], cut_session: Callable[[str, str], None],
                 audit: Callable[..., None]):
        self.interval = interval
        self._check, self._audit = check, audit
        self._cut_user, self._cut_socket, self._cut_session = cut_user, cut_socket, cut_session
        self._by_sid: dict[str, Identity] = {}
        self._token_sessions: dict[str, int] = {}    # session id -> token id that opened it
        self._lock = threading.Lock()
        self._started = False

    def connected(self, sid: str, ident: Identity) -> None:
        with self._lock:
            self._by_sid[sid] = ident

    def disconnected(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def identity(self, sid: str) -> Identity | None:
        return self._by_sid.get(sid)

    def sockets_of(self, uid: str) -> list[str]:
        with self._lock:
            return [sid for sid, i in self._by_sid.items() if i.uid == uid]

    def opened(self, sid: str, session_id: str) -> None:
        """A session was opened through socket `sid`: if that used a token, the token's fate is its fate."""
        ident = self._by_sid.get(sid)
        if ident is not None and ident.token_id is not None:
            with self._lock:
                self._token_sessions[session_id] = ident.token_id

    def ended(self, session_id: str) -> None:
        with self._lock:
            self._token_sessions.pop(session_id, None)

    # -- the re-check loop ---------------------------------------------------
    def start(self, spawn: Callable, sleep: Callable[[float], None], owners: Callable[[], set[str]]) -> None:
        """Run the re-check every `interval` seconds (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._started = True

        def loop() -> None:
            while True:
                sleep(self.interval)
                try:
                    self.recheck(owners())
                except Exception:  # noqa: BLE001 - the guard must outlive any failure
                    log.exception("socket guard pass failed")
        spawn(loop)

    def recheck(self, session_owners: set[str]) -> None:
        """Cut users no longer active and tokens no longer usable."""
        with self._lock:
            idents = dict(self._by_sid)
            token_sessions = dict(self._token_sessions)
        uids = {i.uid for i in idents.values()} | set(session_owners)
        token_ids = {i.token_id for i in idents.values() if i.token_id} | set(token_sessions.values())
        if not uids and not token_ids:
            return
        logins = {(i.uid, i.login_version) for i in idents.values() if i.token_id is None}
        inactive, unusable, revoked = self._check(uids, token_ids, logins)
        names = {i.uid: i.username for i in idents.values()}
        for uid in inactive:
            name = names.get(uid)
            log.info("user %s (id %s) is disabled or deleted: cutting their sockets and sessions", name, uid)
            self._audit("user.cut", Identity(uid, name) if name else uid, reason="disabled or deleted")
            self._cut_user(uid, "account disabled")
        for sid, ident in idents.items():
            if ident.token_id is None and ident.uid not in inactive and (ident.uid, ident.login_version) in revoked:
                log.info("login of user %s (id %s) was revoked: cutting socket %s", ident.username, ident.uid, sid)
                self._cut_socket(sid)
        for tid in unusable:
            self.cut_token(tid, idents, token_sessions)

    def cut_token(self, token_id: int, idents: dict[str, Identity] | None = None,
                  token_sessions: dict[str, int] | None = None) -> None:
        """End every socket and session that came in with `token_id`."""
        with self._lock:
            idents = dict(self._by_sid) if idents is None else idents
            token_sessions = dict(self._token_sessions) if token_sessions is None else token_sessions
        log.info("token %s is revoked or expired: cutting its sockets and sessions", token_id)
        self._audit("token.cut", None, token=token_id)
        for sid, ident in idents.items():
            if ident.token_id == token_id:
                self._cut_socket(sid)
        for session_id, stid in token_sessions.items():
            if stid == token_id:
                self._cut_session(session_id, "API token revoked")
                self.ended(session_id)
