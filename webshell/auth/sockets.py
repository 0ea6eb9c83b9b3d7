"""Who is behind each Socket.IO connection, and cutting them off when that changes.

A socket authenticates with an API token (the `auth` payload `{token}` or an
`Authorization: Bearer` header on the handshake; never the URL) or, from a browser,
with the session cookie. A guard loop re-checks every few seconds, against the
database, that each connected user is still active and each token still usable:
a user disabled or a token revoked from any process (CLI, admin page, another
replica) loses its sockets and its terminal sessions within seconds.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, request
from flask_login import current_user

from .. import access
from ..errors import Unauthorized
from ..extensions import db, login_manager
from ..models import ApiToken, User
from . import revocation, tokens

log = logging.getLogger(__name__)


@dataclass
class Identity:
    uid: str
    token_id: int | None
    login_version: int | None = None    # cookie logins: the session version they were made with


def authenticate(auth) -> tuple[User, int | None]:
    """The connecting user and the token id they used (None: the session cookie)."""
    if request.args.get("token") or request.args.get("access_token"):
        raise Unauthorized("tokens are never accepted in a URL")
    secret = auth.get("token") if isinstance(auth, dict) else None
    if secret is None:
        secret = tokens.bearer(request.headers.get("Authorization"))
    if secret is not None:
        token = tokens.authenticate(secret) if isinstance(secret, str) else None
        if token is None:
            access.audit("token.denied", None, via="socket")
            raise Unauthorized("invalid, expired or revoked token")
        return token.user, token.id
    if not current_user.is_authenticated:
        raise Unauthorized("authentication required")
    return current_user._get_current_object(), None


class SocketGuard:
    """Identities of connected sockets and of sessions opened with tokens; the re-check loop."""

    def __init__(self, interval: float, cut_user: Callable[[str, str], None],
                 cut_sid: Callable[[str], None], close_session: Callable[[str, str], None]):
        self.interval = interval
        self._cut_user, self._cut_sid, self._close_session = cut_user, cut_sid, close_session
        self._by_sid: dict[str, Identity] = {}
        self._token_sessions: dict[str, int] = {}    # session id -> token id that opened it
        self._lock = threading.Lock()
        self._started = False

    def connected(self, sid: str, user: User, token_id: int | None) -> None:
        with self._lock:
            self._by_sid[sid] = Identity(user.get_id(), token_id,
                                         revocation.cookie_version() if token_id is None else None)

    def disconnected(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def opened(self, sid: str, session_id: str) -> None:
        """A session was opened through socket `sid`: if that used a token, the token's fate is its fate."""
        ident = self._by_sid.get(sid)
        if ident is not None and ident.token_id is not None:
            with self._lock:
                self._token_sessions[session_id] = ident.token_id

    def ended(self, session_id: str) -> None:
        with self._lock:
            self._token_sessions.pop(session_id, None)

    def act_as(self, sid: str) -> None:
        """Inside an event of a token socket, current_user is the token's user (checked live)."""
        ident = self._by_sid.get(sid)
        if ident is not None and ident.token_id is not None:
            user = db.session.get(User, int(ident.uid))
            g._login_user = user if user is not None and user.is_active else login_manager.anonymous_user()

    # -- the re-check loop ---------------------------------------------------
    def start(self, app: Flask, spawn: Callable, sleep: Callable[[float], None],
              owners: Callable[[], set[str]]) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True

        def loop() -> None:
            while True:
                sleep(self.interval)
                try:
                    with app.app_context():
                        self.recheck(owners())
                except Exception:  # noqa: BLE001 - the guard must outlive any failure
                    log.exception("socket guard pass failed")
        spawn(loop)

    def recheck(self, session_owners: set[str]) -> None:
        """Cut users no longer active and tokens no longer usable (needs an app context)."""
        with self._lock:
            idents = dict(self._by_sid)
            token_sessions = dict(self._token_sessions)
        uids = {i.uid for i in idents.values()} | set(session_owners)
        if not uids and not token_sessions:
            return
        ids = [int(u) for u in uids if u.isdigit()]
        active = {str(u.id) for u in db.session.execute(db.select(User).where(User.id.in_(ids))).scalars()
                  if u.is_active}
        for uid in uids - active:
            log.info("user %s is disabled or deleted: cutting their sockets and sessions", uid)
            access.audit("user.cut", uid, reason="disabled or deleted")
            self._cut_user(uid, "account disabled")
        for sid, ident in idents.items():
            if ident.token_id is None and ident.uid in active and \
                    not revocation.login_valid(ident.uid, ident.login_version):
                log.info("login of user %s was revoked: cutting socket %s", ident.uid, sid)
                self._cut_sid(sid)
        token_ids = {i.token_id for i in idents.values() if i.token_id} | set(token_sessions.values())
        if not token_ids:
            return
        rows = db.session.execute(db.select(ApiToken).where(ApiToken.id.in_(token_ids))).scalars()
        usable = {t.id for t in rows if t.usable()}
        for tid in token_ids - usable:
            log.info("token %s is revoked or expired: cutting its sockets and sessions", tid)
            access.audit("token.cut", None, token=tid)
            for sid, ident in idents.items():
                if ident.token_id == tid:
                    self._cut_sid(sid)
            for session_id, stid in token_sessions.items():
                if stid == tid:
                    self._close_session(session_id, "API token revoked")
                    self.ended(session_id)
