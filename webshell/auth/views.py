"""Login page, login form, logout."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import access
from ..extensions import db
from ..models import User
from .throttle import LoginThrottle

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    return current_app.extensions["kws.login_throttle"]


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the console."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pods.console")


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login():
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    keys = (f"user:{username.lower()}", f"ip:{request.remote_addr}")
    wait = _throttle().retry_after(*keys)
    if wait > 0:
        log.warning("login throttled: user=%s ip=%s", username, request.remote_addr)
        access.audit("login.throttled", username[:80] or None)
        flash(gettext("Too many failed logins. Try again in %(n)s seconds.", n=int(wait) + 1))
        return render_template("login.html", next=request.form.get("next", "")), 429
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    good = user is not None and user.check_password(password)
    if not good or not user.is_active:
        _throttle().failed(*keys)
        log.info("login failed: user=%s ip=%s", username, request.remote_addr)
        access.audit("login.failed", user if user is not None else (username[:80] or None),
                     why="account disabled" if good else "bad credentials")
        flash(gettext("Wrong user name or password, or the account is disabled."))
        return render_template("login.html", next=request.form.get("next", "")), 401
    _throttle().succeeded(*keys)
    login_user(user)
    log.info("login: user=%s ip=%s", username, request.remote_addr)
    access.audit("login", user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout():
    from ..terminal.namespace import terminal
    uid = current_user.get_id()
    access.audit("logout", current_user)
    logout_user()
    terminal().disconnect_user(uid, "logged out")
    return redirect(url_for("auth.login_form"))
