"""Database models: users, access rules, API tokens, audit events.

The schema is owned by the Alembic migrations in migrations/; keep the two in step
(`flask --app webshell db migrate` drafts a new revision from these classes).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

TOKEN_PREFIX = "kws_"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class User(UserMixin, db.Model):
    """A person who logs in to the console. Passwords are stored as scrypt hashes."""

    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    is_admin = db.Column(db.Boolean, nullable=False, default=False)
    disabled = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=now)
    role = db.Column(db.String(80), nullable=True)   # rules may name a role instead of a user
    # Raised to revoke every login cookie issued so far (auth/revocation.py).
    session_version = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    last_login_at = db.Column(db.DateTime(timezone=True), nullable=True)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return not self.disabled


_DUMMY_HASH: list[str] = []


def verify_password(user: "User | None", password: str) -> bool:
    """Does `password` match `user`'s? An unknown name (None) costs one scrypt all the same.

    Without the dummy hash a wrong password answered in ~80 ms for an existing user and
    ~4 ms for an unknown one: the time told which names exist.
    """
    if user is not None:
        return user.check_password(password)
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16), method="scrypt"))
    check_password_hash(_DUMMY_HASH[0], password)
    return False


class Rule(db.Model):
    """Allows a user (or everyone with a role) to see clusters/namespaces matching globs, and maybe more."""

    __tablename__ = "rules"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    role = db.Column(db.String(80), nullable=True, index=True)
    clusters = db.Column(db.String(255), nullable=False, default="*")     # glob
    namespaces = db.Column(db.String(255), nullable=False, default="*")   # glob
    can_exec = db.Column(db.Boolean, nullable=False, default=False)
    can_upload = db.Column(db.Boolean, nullable=False, default=False)
    can_download = db.Column(db.Boolean, nullable=False, default=False)
    can_debug = db.Column(db.Boolean, nullable=False, default=False)   # add debug containers to pods
    can_logs = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    user = db.relationship("User", backref=db.backref("rules", cascade="all, delete-orphan", passive_deletes=True))

    def describe(self) -> str:
        who = f"user {self.user.username}" if self.user_id else f"role {self.role}"
        can = [a for a, ok in (("exec", self.can_exec), ("upload", self.can_upload),
                               ("download", self.can_download), ("debug", self.can_debug),
                               ("logs", self.can_logs)) if ok]
        return f"#{self.id} {who}: {self.clusters}/{self.namespaces} list{''.join(',' + c for c in can)}"


class ApiToken(db.Model):
    """A bearer token for dashboards and scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(80), nullable=False)
    token_hash = db.Column(db.String(64), unique=True, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=now)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=True)
    revoked_at = db.Column(db.DateTime(timezone=True), nullable=True)
    last_used_at = db.Column(db.DateTime(timezone=True), nullable=True)
    user = db.relationship("User", backref=db.backref("tokens", cascade="all, delete-orphan", passive_deletes=True))

    @staticmethod
    def hash(secret: str) -> str:
        # Tokens are 256 random bits: a fast hash is enough, and makes lookup by hash possible.
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, expires_at: dt.datetime | None = None) -> tuple["ApiToken", str]:
        """A new token row and its secret (the only time the secret exists in clear)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls(user=user, name=name, token_hash=cls.hash(secret), expires_at=expires_at), secret

    def usable(self, at: dt.datetime | None = None) -> bool:
        at = at or now()
        expires = aware(self.expires_at)
        return self.revoked_at is None and (expires is None or expires > at) and self.user.is_active


class AuditEvent(db.Model):
    """One audited action: who, what, where, and whether it was allowed."""

    __tablename__ = "audit_events"
    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(db.DateTime(timezone=True), nullable=False, default=now, index=True)
    event = db.Column(db.String(64), nullable=False, index=True)
    user_id = db.Column(db.Integer, nullable=True)     # no foreign key: the trail outlives users
    username = db.Column(db.String(80), nullable=True, index=True)
    ip = db.Column(db.String(64), nullable=True)
    cluster = db.Column(db.String(255), nullable=True)
    namespace = db.Column(db.String(255), nullable=True)
    pod = db.Column(db.String(255), nullable=True)
    detail = db.Column(db.JSON, nullable=False, default=dict)

    def as_dict(self) -> dict:
        return {"id": self.id, "at": aware(self.at).isoformat(), "event": self.event, "user": self.username,
                "user_id": self.user_id,
                "ip": self.ip, "cluster": self.cluster, "namespace": self.namespace, "pod": self.pod,
                "detail": self.detail or {}}


class OidcIdentity(db.Model):
    """A user's account at an OIDC provider: created at the first SSO login, updated at each.

    The tokens are kept for token pass-through (the cluster is called with the user's own ID
    token, refreshed with the refresh token) and cleared at logout.
    """

    __tablename__ = "oidc_identities"
    __table_args__ = (db.UniqueConstraint("provider", "subject"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    provider = db.Column(db.String(80), nullable=False)
    subject = db.Column(db.String(255), nullable=False)
    groups = db.Column(db.JSON, nullable=False, default=list)
    id_token = db.Column(db.Text, nullable=True)
    refresh_token = db.Column(db.Text, nullable=True)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=True)   # the ID token's `exp`
    last_login_at = db.Column(db.DateTime(timezone=True), nullable=True)
    user = db.relationship("User", backref=db.backref("oidc_identities", cascade="all, delete-orphan",
                                                      passive_deletes=True))
