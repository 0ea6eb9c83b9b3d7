"""Accounts as the admin pages change them: create, disable/enable, password, role and admin flag.

Each change is committed, audited by the caller, and when it takes a login away (disable) the
user's sockets and terminals end at once through `events.signed_out`.
"""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext

from .. import events
from ..errors import BadRequest, NotFound
from ..extensions import db
from ..models import User
from . import revocation

# Starts with a letter (audit tells user ids from names); no ":" (Kubernetes reserves "system:"
# names, and impersonation sends the user name as is).
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9._@-]{0,79}$")
MIN_PASSWORD = 8


def check_name(name: str, role: bool = False) -> str:
    if not USERNAME.match(name or ""):
        raise BadRequest(gettext("A role is a letter, then letters, digits, '.', '_', '@' or '-' (80 at most).")
                         if role else
                         gettext("A user name is a letter, then letters, digits, '.', '_', '@' or '-' (80 at most)."))
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise BadRequest(gettext("The password needs at least %(n)s characters.", n=MIN_PASSWORD))
    return password


def find(name: str) -> User:
    user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()
    if user is None:
        raise NotFound(gettext("There is no user %(name)s.", name=name))
    return user


def create(name: str, password: str, is_admin: bool = False, role: str | None = None) -> User:
    check_name(name)
    check_password(password)
    role = check_name(role, role=True) if role else None
    if db.session.execute(db.select(User.id).filter_by(username=name)).first() is not None:
        raise BadRequest(gettext("User %(name)s exists already.", name=name))
    user = User(username=name, is_admin=is_admin, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_disabled(user: User, disabled: bool, by: User) -> None:
    """Disable (every login revoked, sockets and terminals ended now) or enable again."""
    if disabled and user.id == by.id:
        raise BadRequest(gettext("You cannot disable your own account."))
    user.disabled = disabled
    if disabled:
        revocation.revoke_all(user, "disabled")      # enabling again does not revive old cookies
    db.session.commit()
    if disabled:
        events.signed_out.send(current_app._get_current_object(), uid=str(user.id), reason="account disabled")


def set_password(user: User, password: str) -> None:
    """A new password: cookies of the old one stop working (their sockets are cut at the re-check)."""
    user.set_password(check_password(password))
    revocation.revoke_all(user, "password reset")
    db.session.commit()


def set_role(user: User, role: str | None, is_admin: bool, by: User) -> None:
    if user.id == by.id and not is_admin:
        raise BadRequest(gettext("You cannot take away your own admin rights."))
    user.role = check_name(role, role=True) if role else None
    user.is_admin = is_admin
    db.session.commit()


def all_users() -> list[User]:
    return list(db.session.execute(db.select(User).order_by(User.username)).scalars())
