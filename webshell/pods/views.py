"""Views that parse -> call -> render for the console and the listing API."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from .. import access
from .. import names as k8s_names
from ..errors import Forbidden
from ..extensions import db
from ..kube import pods
from ..kube.clusters import ClusterRegistry

bp = Blueprint("pods", __name__)


def clusters() -> ClusterRegistry:
    return current_app.extensions["kws.clusters"]


@bp.get("/")
@login_required
def console():
    return render_template("console.html", deep_link={})


@bp.get("/t/<cluster>/<namespace>/<pod>")
@login_required
def deep_link(cluster: str, namespace: str, pod: str):
    """Open the console straight on a terminal; ?container= picks one."""
    link = {"cluster": cluster, "namespace": namespace, "pod": pod,
            "container": request.args.get("container") or None}
    k8s_names.target(cluster, namespace, pod, link["container"])
    return render_template("console.html", deep_link=link)


@bp.get("/api/clusters")
@login_required
def list_clusters():
    return jsonify(clusters=access.visible_clusters(current_user, clusters().names()))


def _visible_namespaces(cluster: str) -> list[str]:
    k8s_names.cluster(cluster)
    access.check(current_user, access.LIST, cluster)
    headers = access.impersonation(current_user, cluster)
    access.done_with_database()
    # KWS_NAMESPACES: what the console offers when it may not list namespaces itself.
    fallback = current_app.config["NAMESPACES"]
    try:
        names = pods.list_namespaces(clusters(), cluster, headers, () if headers else fallback)
    except Forbidden:
        if headers is None:
            raise
        # Impersonated users often may not list namespaces (a cluster-wide right): offer the
        # names the rules allow; the cluster still decides on what is inside each of them.
        names = pods.list_namespaces(clusters(), cluster, fallback=fallback)
    visible = access.visible(current_user, cluster, names)
    access.done_with_database()
    return visible


@bp.get("/api/clusters/<cluster>/namespaces")
@login_required
def list_namespaces(cluster: str):
    return jsonify(namespaces=_visible_namespaces(cluster))


@bp.get("/api/clusters/<cluster>/rights")
@login_required
def rights(cluster: str):
    """What the user may do in each namespace they see: the page hides or disables the rest."""
    actions = (access.EXEC, access.UPLOAD, access.DOWNLOAD, access.LOGS, access.DEBUG)
    return jsonify(namespaces={ns: {a: access.allowed(current_user, a, cluster, ns) for a in actions}
                               for ns in _visible_namespaces(cluster)})


@bp.get("/api/clusters/<cluster>/pods")
@login_required
def search_pods(cluster: str):
    """Pods whose name contains ?q= in every namespace the user may see, each namespace checked."""
    q = (request.args.get("q") or "").strip().lower()
    limit = current_app.config["SEARCH_MAX_RESULTS"]
    headers = access.impersonation(current_user, cluster)
    found: list[dict] = []
    for ns in _visible_namespaces(cluster):
        access.check(current_user, access.LIST, cluster, ns)
        access.done_with_database()
        try:
            listed = pods.list_pods(clusters(), cluster, ns, headers)
        except Forbidden:   # impersonated: the cluster's RBAC may hide a namespace the rules show
            continue
        found.extend(p for p in listed if q in p["name"].lower())
        if len(found) > limit:
            break
    return jsonify(pods=found[:limit], truncated=len(found) > limit)


@bp.get("/api/clusters/<cluster>/namespaces/<namespace>/pods")
@login_required
def list_pods(cluster: str, namespace: str):
    k8s_names.target(cluster, namespace)
    access.check(current_user, access.LIST, cluster, namespace)
    headers = access.impersonation(current_user, cluster)
    access.done_with_database()
    return jsonify(pods=pods.list_pods(clusters(), cluster, namespace, headers))


@bp.get("/api/stats")
@login_required
def stats():
    """Admins: live terminals and the background work behind them."""
    if not access.is_admin(current_user):
        raise Forbidden("only admins may read server statistics")
    access.done_with_database()     # then `checked_out` counts only what others hold
    return jsonify(terminals=current_app.extensions["kws.terminal"].stats(), audit={"lost": access.LOST["events"]},
                   database=_pool_stats())


def _pool_stats() -> dict:
    """Database connections checked out of the pool right now (none may be held across Kubernetes I/O)."""
    pool = db.engine.pool
    return {"checked_out": pool.checkedout() if hasattr(pool, "checkedout") else None}
