"""API tokens: issue (shown once), look up by hash, revoke."""
from __future__ import annotations

import datetime as dt
import logging

from ..extensions import db
from ..models import ApiToken, User, now

log = logging.getLogger(__name__)
MAX_TOKEN_LENGTH = 200


def issue(user: User, name: str, days: float | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`, valid for `days` (forever when None); returns (row, secret)."""
    name = (name or "").strip()[:80] or "token"
    expires = now() + dt.timedelta(days=days) if days else None
    token, secret = ApiToken.issue(user, name, expires)
    db.session.add(token)
    db.session.commit()
    log.info("token %s (%s) issued to user=%s expires=%s", token.id, name, user.username, expires)
    return token, secret


def authenticate(secret: str) -> ApiToken | None:
    """The usable token with this secret (and note its use), or None."""
    if not isinstance(secret, str) or not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=ApiToken.hash(secret))).scalar_one_or_none()
    if token is None or not token.usable():
        return None
    token.last_used_at = now()
    db.session.commit()
    return token


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = now()
        db.session.commit()
        log.info("token %s revoked (user=%s)", token.id, token.user.username)


def for_user(user: User) -> list[ApiToken]:
    return list(db.session.execute(
        db.select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.id)).scalars())


def describe(token: ApiToken) -> dict:
    def iso(t):
        return t.replace(tzinfo=dt.timezone.utc).isoformat() if t and t.tzinfo is None else \
            t.isoformat() if t else None
    state = "revoked" if token.revoked_at else "active" if token.usable() else "expired"
    return {"id": token.id, "name": token.name, "user": token.user.username, "state": state,
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "last_used_at": iso(token.last_used_at)}


def bearer(header: str | None) -> str | None:
    """The secret of an `Authorization: Bearer <secret>` header; '' when the header is malformed."""
    if not header:
        return None
    scheme, _, secret = header.strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""
