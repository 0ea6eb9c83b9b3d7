"""The admin's rules page: add and delete rules, and preview what a user may do per cluster and namespace."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, render_template, request
from flask_babel import gettext
from flask_login import current_user

from .. import access
from ..auth import accounts
from ..errors import BadRequest, NotFound, WebshellError
from ..extensions import db
from ..kube import pods
from ..models import Rule
from .forms import admin_form, flag
from .views import admin_required

bp = Blueprint("admin_rules", __name__)
ACTIONS = (access.LIST, access.EXEC, access.UPLOAD, access.DOWNLOAD, access.DEBUG, access.LOGS)
FLAGS = ("exec", "upload", "download", "debug", "logs")


def describe(r: Rule) -> dict:
    return {"id": r.id, "user": r.user.username if r.user_id else None, "role": r.role,
            "clusters": r.clusters, "namespaces": r.namespaces,
            "rights": ["list"] + [f for f in FLAGS if getattr(r, f"can_{f}")]}


def _rules() -> list[Rule]:
    return list(db.session.execute(db.select(Rule).order_by(Rule.id)).scalars())


def preview(name: str, cluster: str) -> dict:
    """For each namespace of `cluster` (listed with the console's own credentials): what `name` may do
    there and by which rules."""
    user = accounts.find(name)
    clusters = current_app.extensions["kws.clusters"]
    if cluster not in clusters.names():
        raise NotFound(gettext("There is no cluster %(name)s.", name=cluster))
    rows = {}
    access.done_with_database()      # no pooled connection held while the cluster answers
    try:
        namespaces = pods.list_namespaces(clusters, cluster, fallback=current_app.config["NAMESPACES"])
    except WebshellError as e:
        return {"user": name, "cluster": cluster, "error": e.message, "namespaces": {}}
    for ns in namespaces:
        rows[ns] = {a: (["admin"] if (g := access.granting(user, a, cluster, ns)) is None else [r.id for r in g])
                    for a in ACTIONS}
    return {"user": name, "cluster": cluster, "admin": user.is_admin, "disabled": user.disabled,
            "namespaces": rows}


@bp.get("/admin/rules")
@admin_required
def page():
    users = [u.username for u in accounts.all_users()]
    clusters = current_app.extensions["kws.clusters"].names()
    name, cluster = request.args.get("user", ""), request.args.get("cluster") or (clusters[0] if clusters else "")
    shown = preview(name, cluster) if name and cluster else None
    return render_template("admin/rules.html", rules=[describe(r) for r in _rules()], users=users,
                           clusters=clusters, chosen={"user": name, "cluster": cluster}, preview=shown,
                           actions=ACTIONS)


@bp.get("/api/admin/rules")
@admin_required
def list_api():
    return jsonify(rules=[describe(r) for r in _rules()])


@bp.get("/api/admin/rules/preview")
@admin_required
def preview_api():
    return jsonify(preview(request.args.get("user", ""), request.args.get("cluster", "")))


@bp.post("/admin/rules")
@admin_form("admin_rules.page")
def add():
    f = request.form
    name, role = f.get("user", "").strip(), f.get("role", "").strip()
    if bool(name) == bool(role):
        raise BadRequest(gettext("Give a user or a role, not both."))
    clusters, namespaces = f.get("clusters", "").strip() or "*", f.get("namespaces", "").strip() or "*"
    if len(clusters) > 255 or len(namespaces) > 255:
        raise BadRequest(gettext("A pattern has at most 255 characters."))
    rule = Rule(user=accounts.find(name) if name else None, role=accounts.check_name(role, role=True) if role else None,
                clusters=clusters, namespaces=namespaces,
                **{f"can_{x}": flag(x) for x in FLAGS})
    db.session.add(rule)
    db.session.commit()
    access.audit("rule.add", current_user, rule=rule.describe())
    flash(gettext("Added rule #%(id)s.", id=rule.id))


@bp.post("/admin/rules/<int:rule_id>/delete")
@admin_form("admin_rules.page")
def delete(rule_id: int):
    rule = db.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(gettext("There is no rule #%(id)s.", id=rule_id))
    described = rule.describe()
    db.session.delete(rule)
    db.session.commit()
    access.audit("rule.delete", current_user, rule=described)
    flash(gettext("Deleted rule #%(id)s.", id=rule_id))
