"""Each user's API tokens: a page and a JSON API to create (shown once), list and revoke them."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, make_response, render_template, request
from flask_login import current_user, login_required

from .. import access, events
from ..errors import BadRequest, Forbidden, NotFound
from ..extensions import db
from ..models import ApiToken
from . import tokens

bp = Blueprint("tokens", __name__)


def _no_token_minting() -> None:
    """A token may not mint or revoke tokens: only a logged-in person can."""
    if g.get("kws_token_id"):
        raise Forbidden("API tokens cannot manage tokens; log in to the console")


def _days(raw) -> float | None:
    if raw in (None, "", 0, "0"):
        return None
    try:
        days = float(raw)
    except (TypeError, ValueError):
        raise BadRequest("'days' must be a number of days") from None
    if not 0 < days <= current_app.config["TOKEN_MAX_DAYS"]:
        raise BadRequest(f"'days' must be between 0 and {current_app.config['TOKEN_MAX_DAYS']}")
    return days


def _create(name: str, days) -> tuple[ApiToken, str]:
    _no_token_minting()
    token, secret = tokens.issue(current_user._get_current_object(), name, _days(days))
    access.audit("token.create", current_user, token=token.id, name=token.name,
                 expires=token.expires_at.isoformat() if token.expires_at else None)
    return token, secret


def _revoke(token_id: int) -> ApiToken:
    _no_token_minting()
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != current_user.id and not access.is_admin(current_user)):
        raise NotFound("no such token")
    tokens.revoke(token)
    access.audit("token.revoke", current_user, token=token.id, owner=token.user.username)
    # its sockets and terminals end now rather than at the next re-check
    events.token_revoked.send(current_app._get_current_object(), token_id=token.id)
    return token


def _page(secret: str | None = None, status: int = 200):
    rows = [tokens.describe(t) for t in tokens.for_user(current_user)]
    resp = make_response(render_template("tokens.html", tokens=rows, secret=secret), status)
    resp.headers["Cache-Control"] = "no-store"   # the secret is on this page once
    return resp


@bp.get("/tokens")
@login_required
def page():
    return _page()


@bp.post("/tokens")
@login_required
def create_form():
    _, secret = _create(request.form.get("name", ""), request.form.get("days"))
    return _page(secret, 201)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_form(token_id: int):
    _revoke(token_id)
    return _page()


@bp.get("/api/tokens")
@login_required
def list_api():
    return jsonify(tokens=[tokens.describe(t) for t in tokens.for_user(current_user)])


@bp.post("/api/tokens")
@login_required
def create_api():
    body = request.get_json(silent=True) or {}
    token, secret = _create(str(body.get("name", "")), body.get("days"))
    resp = jsonify(token=secret, **tokens.describe(token))
    resp.headers["Cache-Control"] = "no-store"
    return resp, 201


@bp.delete("/api/tokens/<int:token_id>")
@login_required
def revoke_api(token_id: int):
    return jsonify(tokens.describe(_revoke(token_id)))
