"""Login page, login form, logout."""
from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import access, events
from ..extensions import db, limiter
from ..models import User, now, verify_password
from . import oidc, revocation
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
    return render_template("login.html", next=request.args.get("next", ""), **oidc.login_page_context())


def _page(status: int, retry_after: int | None = None):
    resp = make_response(render_template("login.html", next=request.form.get("next", ""),
                                         **oidc.login_page_context()), status)
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


def _address_breached(limit):
    """The total rate from one address: far above any team's logins, so NAT and proxies share it."""
    wait = max(1, int(limit.reset_at - time.time()))
    log.warning("login rate from one address exceeded: ip=%s limit=%s", request.remote_addr, limit.limit)
    access.audit("login.throttled", None, why="address rate")
    flash(gettext("Too many logins from your address. Try again in %(n)s seconds.", n=wait))
    return _page(429, wait)


@bp.post("/login")
@limiter.limit(_address_limit, on_breach=_address_breached)
def login():
    if not current_app.config["LOCAL_LOGIN"]:
        flash(gettext("Local accounts are switched off here: sign in with single sign-on."))
        return _page(403)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr
    wait = _throttle().retry_after(username, address)
    if wait > 0:
        log.warning("login throttled: user=%s ip=%s", username, address)
        access.audit("login.throttled", access.Name(username[:80]) if username else None, why="failures",
                     retry_after=wait)
        flash(gettext("Too many failed logins. Try again in %(n)s seconds.", n=wait))
        return _page(429, wait)
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    good = verify_password(user, password)     # as slow for an unknown name as for a known one
    if not good or not user.is_active:
        _throttle().failed(username, address)
        log.info("login failed: user=%s ip=%s", username, address)
        access.audit("login.failed", user if user is not None else (access.Name(username[:80]) if username else None),
                     why="account disabled" if good else "bad credentials")
        flash(gettext("Wrong user name or password, or the account is disabled."))
        return _page(401)
    _throttle().succeeded(username, address)
    login_user(user)
    revocation.remember(user)
    user.last_login_at = now()
    db.session.commit()
    log.info("login: user=%s ip=%s", username, request.remote_addr)
    access.audit("login", user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout():
    return _log_out("logout", "logged out")


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """The button on the tokens page: every browser's login of this user ends (tokens stay)."""
    return _log_out("logout.everywhere", "logged out everywhere")


def _log_out(event: str, reason: str):
    """End this user's logins everywhere: the session version goes up, so no earlier cookie works."""
    user = current_user._get_current_object()
    uid = user.get_id()
    access.audit(event, user)
    end = oidc.sign_out(user)     # the provider's tokens are forgotten: no more pass-through as this user
    revocation.revoke_all(user, reason)
    db.session.commit()
    logout_user()
    if end:
        session[oidc.END_KEY] = end
    events.signed_out.send(current_app._get_current_object(), uid=uid, reason=reason)
    return redirect(url_for("auth.login_form"))
