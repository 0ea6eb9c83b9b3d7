"""Server-side revocation of logins: a per-user session version in the database.

A login stores the user's `session_version` in the signed session cookie. The user loader
(every HTTP request and Socket.IO event) and the socket guard's re-check accept the
cookie only while the version still matches, so raising it (logout, "log out
everywhere", a password reset, disabling the user) makes every cookie issued before
useless at once, on every replica: the version lives in the shared database.
"""
from __future__ import annotations

import logging

from flask import session

from ..extensions import db
from ..models import User

log = logging.getLogger(__name__)
SESSION_KEY = "kws_sv"


def remember(user: User) -> None:
    """At login: tie this session to the user's current version."""
    session[SESSION_KEY] = user.session_version


def cookie_version() -> int | None:
    """The version this request's session cookie was issued with (None: none recorded)."""
    value = session.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def session_valid(user: User | None) -> bool:
    """Is the current session cookie's login still valid for `user` (the user loader asks)?"""
    return user is not None and user.is_active and cookie_version() == user.session_version


def login_valid(uid: str, version: int | None) -> bool:
    """Is a socket's cookie login, made with `version`, still valid (the socket guard's re-check asks)?"""
    user = db.session.get(User, int(uid)) if uid.isdigit() else None
    return user is not None and user.is_active and version is not None and version == user.session_version


def revoke_all(user: User, why: str) -> None:
    """Make every login cookie of `user` issued so far useless (the caller commits with its change)."""
    user.session_version = (user.session_version or 0) + 1
    log.info("logins of user=%s revoked: %s", user.username, why)
