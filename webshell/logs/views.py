"""GET .../pods/<pod>/logs: a container's log as text, streamed (follow) in bounded pieces."""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user, login_required

from .. import access, names
from ..errors import BadRequest
from ..kube import logs
from ..kube.clusters import ClusterRegistry

bp = Blueprint("logs", __name__, url_prefix="/api/clusters/<cluster>/namespaces/<namespace>/pods/<pod>")
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")


def _flag(name: str) -> bool:
    value = request.args.get(name, "0")
    if value not in ("0", "1", "true", "false"):
        raise BadRequest(f"`{name}` must be 0 or 1")
    return value in ("1", "true")


def _number(name: str, limit: int) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or int(value) > limit:
        raise BadRequest(f"`{name}` must be a whole number from 0 to {limit}")
    return int(value)


def options() -> logs.LogOptions:
    cfg = current_app.config
    container = request.args.get("container") or None      # its name is checked by names.target
    since_time = request.args.get("since_time") or None
    if since_time is not None and not _RFC3339.match(since_time):
        raise BadRequest("`since_time` must be an RFC 3339 time such as 2026-12-01T10:00:00Z")
    opts = logs.LogOptions(container=container, follow=_flag("follow"), previous=_flag("previous"),
                           timestamps=_flag("timestamps"), tail_lines=_number("tail", cfg["LOGS_MAX_TAIL"]),
                           since_seconds=_number("since", 10 * 365 * 86400), since_time=since_time)
    if opts.since_seconds is not None and opts.since_time is not None:
        raise BadRequest("give `since` or `since_time`, not both")
    if opts.since_seconds == 0:
        raise BadRequest("`since` must be at least 1 second")
    return opts


@bp.record_once
def _unbuffered(state) -> None:
    """eventlet's server holds back writes under 4 KiB: a followed log line must leave at once.

    The key must be in the server's own environ, which Flask-SocketIO's middleware copies before
    Flask sees it, so it is set by a wrapper outside that middleware (registered after it).
    """
    inner = state.app.wsgi_app

    def wsgi_app(environ, start_response):
        if environ.get("PATH_INFO", "").endswith("/logs"):
            environ["eventlet.minimum_write_chunk_size"] = 0
        return inner(environ, start_response)
    state.app.wsgi_app = wsgi_app


@bp.get("/logs")
@login_required
def read(cluster: str, namespace: str, pod: str):
    names.target(cluster, namespace, pod, request.args.get("container") or None)
    access.check(current_user, access.LOGS, cluster, namespace)
    opts = options()
    download = _flag("download")
    if download and opts.follow:
        raise BadRequest("a download cannot follow the log: drop `follow`")
    reg: ClusterRegistry = current_app.extensions["kws.clusters"]
    cfg = current_app.config
    headers = access.impersonation(current_user, cluster)
    access.done_with_database()     # a followed log can run for minutes: it holds no pooled connection
    stream = logs.open_logs(reg, cluster, namespace, pod, opts, cfg["LOGS_CHUNK"], cfg["LOGS_IDLE_SECONDS"], headers)
    access.audit("logs.read", current_user, cluster=cluster, namespace=namespace, pod=pod,
                 container=opts.container, follow=opts.follow, previous=opts.previous, download=download)
    resp = Response(stream_with_context(iter(stream)), mimetype="text/plain")
    resp.call_on_close(stream.close)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"          # proxies: pass lines on as they come
    if download:
        name = f"{pod}-{opts.container or 'logs'}{'-previous' if opts.previous else ''}.log"
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
