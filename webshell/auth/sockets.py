"""Who is behind a Socket.IO connection: authentication at connect, and the database side of re-checks.

A socket authenticates with an API token (the `auth` payload `{token}` or an
`Authorization: Bearer` header on the handshake; never the URL) or, from a browser,
with the session cookie. The terminal guard (terminal/guard.py) re-checks every few
seconds, through `inactive`, that each connected user is still active and each token
still usable: a user disabled or a token revoked from any process (CLI, admin page,
another replica) loses its sockets and its terminal sessions within seconds.
"""
from __future__ import annotations

import logging

from flask import request
from flask_login import current_user

from .. import access
from ..errors import Unauthorized
from ..extensions import db
from ..models import ApiToken, User
from . import revocation, tokens

log = logging.getLogger(__name__)


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


def load_user(ident) -> User | None:
    """The active user behind a socket identity (`ident.uid`), fresh from the database."""
    user = db.session.get(User, int(ident.uid)) if ident.uid.isdigit() else None
    return user if user is not None and user.is_active else None


def inactive(uids: set[str], token_ids: set[int], logins: set[tuple[str, int | None]] = frozenset()
             ) -> tuple[set[str], set[int], set[tuple[str, int | None]]]:
    """Of these user ids, token ids and cookie logins (user id, session version): the users no
    longer active, the tokens no longer usable, and the logins revoked since (logout
    everywhere, password reset). The terminal guard's periodic re-check (needs an app context).
    """
    ids = [int(u) for u in uids | {u for u, _ in logins} if u.isdigit()]
    users = {str(u.id): u for u in db.session.execute(db.select(User).where(User.id.in_(ids))).scalars()} \
        if ids else {}
    active = {uid for uid, u in users.items() if u.is_active}
    revoked = {(uid, v) for uid, v in logins
               if uid in active and (v is None or v != users[uid].session_version)}
    usable: set[int] = set()
    if token_ids:
        rows = db.session.execute(db.select(ApiToken).where(ApiToken.id.in_(list(token_ids)))).scalars()
        usable = {t.id for t in rows if t.usable()}
    db.session.close()
    return set(uids) - active, set(token_ids) - usable, revoked


def login_version(token_id: int | None) -> int | None:
    """The session version a cookie socket logged in with (None for token sockets)."""
    return revocation.cookie_version() if token_id is None else None


def active_user(name: str) -> User | None:
    """The active user called `name` (whom a session may be shared with), or None."""
    user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()
    return user if user is not None and user.is_active else None
