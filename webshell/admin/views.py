"""Admin pages and their JSON twins: live sessions, the audit log, recordings and replay."""
from __future__ import annotations

import datetime as dt
import functools

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required

from .. import access
from ..errors import BadRequest, Forbidden
from ..extensions import db
from ..models import AuditEvent
from ..terminal import validate
from ..terminal.service import TerminalService
from . import recordings as recs

bp = Blueprint("admin", __name__)
FILTERS = ("user", "event", "cluster", "namespace", "pod", "session", "since", "until")
# asciinema-player runs its terminal emulator as WebAssembly.
REPLAY_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; "
              "style-src 'self' 'unsafe-inline'; connect-src 'self'; worker-src 'self' blob:; "
              "frame-ancestors 'none'")


@bp.app_template_filter("timestamp")
def _timestamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not access.is_admin(current_user):
            access.audit("access.denied", current_user, action="admin", path=request.path)
            raise Forbidden("only admins may see this")
        return view(*args, **kwargs)
    return wrapper


def _terminal() -> TerminalService:
    return current_app.extensions["kws.terminal"]


def _store():
    return current_app.extensions.get("kws.recordings")


# -- live sessions ----------------------------------------------------------------
def _live() -> list[dict]:
    return _terminal().describe_all()


@bp.get("/admin/")
@admin_required
def index():
    return redirect(url_for("admin.sessions"))


@bp.get("/admin/sessions")
@admin_required
def sessions():
    return render_template("admin/sessions.html", sessions=_live(), now=dt.datetime.now().timestamp())


@bp.get("/api/admin/sessions")
@admin_required
def sessions_api():
    return jsonify(sessions=_live())


def _reason() -> str:
    """The admin's reason for a terminate (form field or JSON `reason`): told to the user and audited."""
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("reason") if isinstance(body, dict) else request.form.get("reason")
    return validate.reason(raw, current_app.config["TERMINATE_REASON_MAX"])


@bp.post("/admin/sessions/<session_id>/terminate")
@admin_required
def terminate(session_id: str):
    _terminal().terminate(session_id, current_user._get_current_object(), current_user.username, _reason())
    return redirect(url_for("admin.sessions"))


@bp.post("/api/admin/sessions/<session_id>/terminate")
@admin_required
def terminate_api(session_id: str):
    _terminal().terminate(session_id, current_user._get_current_object(), current_user.username, _reason())
    return jsonify(ok=True)


@bp.get("/admin/sessions/<session_id>/watch")
@admin_required
def watch(session_id: str):
    return render_template("admin/watch.html", session_id=session_id)


# -- audit --------------------------------------------------------------------------
def _when(raw: str, name: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be an ISO date or date-time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _search(args) -> tuple[list[AuditEvent], bool]:
    q = db.select(AuditEvent)
    f = {k: (args.get(k) or "").strip() for k in FILTERS}
    if f["user"]:
        q = q.where(AuditEvent.username == f["user"])
    if f["event"]:   # a prefix: "terminal" finds terminal.open and terminal.close
        q = q.where(AuditEvent.event.startswith(f["event"], autoescape=True))
    for col in ("cluster", "namespace", "pod"):
        if f[col]:
            q = q.where(getattr(AuditEvent, col) == f[col])
    if f["session"]:   # every event of one terminal session: open, watch, terminate, close
        q = q.where(AuditEvent.detail["session"].as_string() == f["session"])
    if f["since"]:
        q = q.where(AuditEvent.at >= _when(f["since"], "since"))
    if f["until"]:
        q = q.where(AuditEvent.at <= _when(f["until"], "until"))
    size = current_app.config["AUDIT_PAGE_SIZE"]
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        raise BadRequest("'page' must be a number") from None
    rows = list(db.session.execute(q.order_by(AuditEvent.id.desc()).offset((page - 1) * size)
                                   .limit(size + 1)).scalars())
    return rows[:size], len(rows) > size


@bp.get("/admin/audit")
@admin_required
def audit():
    rows, more = _search(request.args)
    page = int(request.args.get("page", 1))
    return render_template("admin/audit.html", events=[r.as_dict() for r in rows], more=more, page=page,
                           filters={k: request.args.get(k, "") for k in FILTERS})


@bp.get("/api/admin/audit")
@admin_required
def audit_api():
    rows, more = _search(request.args)
    return jsonify(events=[r.as_dict() for r in rows], more=more)


# -- recordings -----------------------------------------------------------------------
def _recordings() -> recs.Page:
    store = _store()
    return recs.query(store.list() if store else [], request.args, dt.datetime.now().timestamp(),
                      current_app.config["RECORDINGS_PAGE_SIZE"])


@bp.get("/admin/recordings")
@admin_required
def recordings():
    page = _recordings()
    return render_template("admin/recordings.html", recordings=page.rows, listing=page, duration=recs.duration,
                           enabled=_store() is not None)


@bp.get("/api/admin/recordings")
@admin_required
def recordings_api():
    page = _recordings()
    return jsonify(recordings=page.rows, page=page.page, pages=page.pages, total=page.total)


@bp.get("/admin/recordings/<session_id>")
@admin_required
def replay(session_id: str):
    store = _store()
    if store is None or store.path(session_id) is None:
        abort(404)
    access.audit("recording.view", current_user, session=session_id)
    resp = current_app.make_response(render_template("admin/replay.html", session_id=session_id,
                                                     meta=store.header(session_id).get("kws", {})))
    resp.headers["Content-Security-Policy"] = REPLAY_CSP
    return resp


@bp.get("/admin/recordings/<session_id>/cast")
@admin_required
def cast(session_id: str):
    store = _store()
    path = store.path(session_id) if store else None
    if path is None:
        abort(404)
    store.flush(session_id)   # a live recording: up to now
    resp = send_file(path, mimetype="application/x-asciicast", max_age=0)
    resp.headers["Cache-Control"] = "no-store"
    return resp
