"""/healthz (alive), /readyz (database and terminal service; clusters reported), /metrics."""
from __future__ import annotations

import hmac
import logging
import threading
import time

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from .. import metrics
from ..errors import error_json
from ..extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)
_cluster_cache: dict[str, tuple[float, bool]] = {}
_cache_lock = threading.Lock()


@bp.get("/healthz")
def healthz():
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz():
    checks = {"database": _database(), "terminals": "ok" if _terminals_accepting() else "shutting down"}
    state = current_app.extensions.get("kws.replica_state")
    if state is not None:   # many replicas: the shared state and message queue
        checks["redis"] = _redis(state)
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks, "clusters": _clusters()}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_page():
    cfg = current_app.config
    token = cfg["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            resp = error_json("unauthorized", "send the metrics token as a Bearer token", 401)
            resp.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return resp
    elif not cfg["METRICS"]:
        return error_json("not_found", "metrics are off (KWS_METRICS=1 or KWS_METRICS_TOKEN)", 404)
    return Response(generate_latest(metrics.REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def _database() -> str:
    try:
        db.session.execute(text("select 1"))
        return "ok"
    except Exception as e:  # noqa: BLE001 - any failure means not ready; the reason goes to the log
        log.warning("readyz: database unreachable: %s", e)
        return "unreachable"
    finally:
        db.session.remove()


def _redis(state) -> str:
    try:
        state.redis.ping()
        return "ok"
    except Exception as e:  # noqa: BLE001 - not ready; the reason goes to the log
        log.warning("readyz: redis unreachable: %s", e)
        return "unreachable"


def _terminals_accepting() -> bool:
    term = current_app.extensions.get("kws.terminal")
    return term is not None and term.registry.accepting


def _clusters() -> dict[str, str]:
    """Each cluster's reachability, probed at most every READYZ_CACHE seconds (the endpoint is public)."""
    from ..kube.health import reachable
    cfg = current_app.config
    registry = current_app.extensions["kws.clusters"]
    now, out = time.monotonic(), {}
    for name in registry.names():
        with _cache_lock:
            hit = _cluster_cache.get(name)
        if hit is None or now - hit[0] > cfg["READYZ_CACHE"]:
            hit = (now, reachable(registry, name, cfg["READYZ_TIMEOUT"]))
            with _cache_lock:
                _cluster_cache[name] = hit
        out[name] = "ok" if hit[1] else "unreachable"
    return out


def init_app(app: Flask) -> None:
    """Register before the security hooks: ops requests skip origin, token and CSRF checks."""
    app.register_blueprint(bp)

    @app.before_request
    def _ops_first():
        request.environ.setdefault("kws.started", time.monotonic())   # transfer durations (metrics)
        if request.blueprint == "ops" and request.endpoint in app.view_functions:
            return app.ensure_sync(app.view_functions[request.endpoint])(**(request.view_args or {}))
        return None

    def _open_terminals() -> int:
        term = app.extensions.get("kws.terminal")
        return 0 if term is None else sum(1 for s in term.registry.sessions() if not s.closed)
    metrics.track_open_terminals(_open_terminals)
