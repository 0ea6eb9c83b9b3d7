"""The admin's users page: create, disable/enable, reset a password, set role and admin flag; last login."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, render_template, request
from flask_babel import gettext
from flask_login import current_user

from .. import access
from ..auth import accounts
from ..models import User, aware
from .forms import admin_form, flag
from .views import admin_required

bp = Blueprint("admin_users", __name__)


def describe(u: User) -> dict:
    return {"name": u.username, "id": u.id, "role": u.role, "admin": u.is_admin, "disabled": u.disabled,
            "created_at": aware(u.created_at).isoformat(),
            "last_login_at": aware(u.last_login_at).isoformat() if u.last_login_at else None}


@bp.get("/admin/users")
@admin_required
def page():
    return render_template("admin/users.html", users=[describe(u) for u in accounts.all_users()])


@bp.get("/api/admin/users")
@admin_required
def list_api():
    return jsonify(users=[describe(u) for u in accounts.all_users()])


@bp.post("/admin/users")
@admin_form("admin_users.page")
def create():
    name = request.form.get("username", "").strip()
    role = request.form.get("role", "").strip() or None
    admin = flag("admin")
    accounts.create(name, request.form.get("password", ""), admin, role)
    access.audit("user.create", current_user, target=name, admin=admin, role=role)
    flash(gettext("Created user %(name)s.", name=name))


@bp.post("/admin/users/<name>/disable")
@admin_form("admin_users.page")
def disable(name: str):
    accounts.set_disabled(accounts.find(name), True, current_user._get_current_object())
    access.audit("user.disable", current_user, target=name)
    flash(gettext("Disabled %(name)s: their logins, sockets and terminals have ended.", name=name))


@bp.post("/admin/users/<name>/enable")
@admin_form("admin_users.page")
def enable(name: str):
    accounts.set_disabled(accounts.find(name), False, current_user._get_current_object())
    access.audit("user.enable", current_user, target=name)
    flash(gettext("Enabled %(name)s.", name=name))


@bp.post("/admin/users/<name>/password")
@admin_form("admin_users.page")
def password(name: str):
    accounts.set_password(accounts.find(name), request.form.get("password", ""))
    access.audit("user.password", current_user, target=name)
    flash(gettext("New password set for %(name)s; their logins have ended.", name=name))


@bp.post("/admin/users/<name>/role")
@admin_form("admin_users.page")
def role(name: str):
    user = accounts.find(name)
    new_role, admin = request.form.get("role", "").strip() or None, flag("admin")
    accounts.set_role(user, new_role, admin, current_user._get_current_object())
    access.audit("user.role", current_user, target=name, role=new_role, admin=admin)
    flash(gettext("Saved the role and rights of %(name)s.", name=name))
