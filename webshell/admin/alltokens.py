"""The admin's view of every user's API tokens, and revoking any of them (its sockets end at once)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, render_template
from flask_babel import gettext
from flask_login import current_user

from .. import access, events
from ..auth import tokens
from ..errors import NotFound
from ..extensions import db
from ..models import ApiToken
from .forms import admin_form
from .views import admin_required

bp = Blueprint("admin_tokens", __name__)


def _all() -> list[dict]:
    rows = db.session.execute(db.select(ApiToken).order_by(ApiToken.id.desc())).scalars()
    return [{**tokens.describe(t), "user_id": t.user_id} for t in rows]


@bp.get("/admin/tokens")
@admin_required
def page():
    return render_template("admin/alltokens.html", tokens=_all())


@bp.get("/api/admin/tokens")
@admin_required
def list_api():
    return jsonify(tokens=_all())


@bp.post("/admin/tokens/<int:token_id>/revoke")
@admin_form("admin_tokens.page")
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(gettext("There is no token #%(id)s.", id=token_id))
    tokens.revoke(token)
    access.audit("token.revoke", current_user, token=token.id, owner=token.user.username)
    events.token_revoked.send(current_app._get_current_object(), token_id=token.id)   # its sockets end now
    flash(gettext("Revoked token #%(id)s of %(name)s.", id=token.id, name=token.user.username))
