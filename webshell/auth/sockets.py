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
from . import tokens

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


def inactive(uids: set[str], token_ids: set[int]) -> tuple[set[str], set[int]]:
    """Of these user ids and token ids: the users no longer active and the tokens no longer usable.

    The terminal guard's periodic re-check (needs an app context).
    """
    ids = [int(u) for u in uids if u.isdigit()]
    active = {str(u.id) for u in db.session.execute(db.select(User).where(User.id.in_(ids))).scalars()
              if u.is_active} if ids else set()
    usable: set[int] = set()
    if token_ids:
        rows = db.session.execute(db.select(ApiToken).where(ApiToken.id.in_(list(token_ids)))).scalars()
        usable = {t.id for t in rows if t.usable()}
    db.session.close()
    return set(uids) - active, set(token_ids) - usable
