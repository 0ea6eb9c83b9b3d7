"""Views that parse -> call -> render for the console and the listing API."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required

from .. import access
from .. import names as k8s_names
from ..errors import Forbidden
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


@bp.get("/api/clusters/<cluster>/namespaces")
@login_required
def list_namespaces(cluster: str):
    k8s_names.cluster(cluster)
    access.check(current_user, access.LIST, cluster)
    headers = access.impersonation(current_user)
    try:
        names = pods.list_namespaces(clusters(), cluster, headers)
    except Forbidden:
        if headers is None:
            raise
        # Impersonated users often may not list namespaces (a cluster-wide right): offer the
        # names the rules allow; the cluster still decides on what is inside each of them.
        names = pods.list_namespaces(clusters(), cluster)
    return jsonify(namespaces=access.visible(current_user, cluster, names))


@bp.get("/api/clusters/<cluster>/namespaces/<namespace>/pods")
@login_required
def list_pods(cluster: str, namespace: str):
    k8s_names.target(cluster, namespace)
    access.check(current_user, access.LIST, cluster, namespace)
    return jsonify(pods=pods.list_pods(clusters(), cluster, namespace, access.impersonation(current_user)))


@bp.get("/api/stats")
@login_required
def stats():
    """Admins: live terminals and the background work behind them."""
    if not getattr(current_user, "is_admin", False):
        raise Forbidden("only admins may read server statistics")
    return jsonify(terminals=current_app.extensions["kws.terminal"].registry.stats())
