"""The /terminal Socket.IO namespace: authenticate, validate payloads, delegate to the registry."""
from __future__ import annotations

import logging
import socket
import time
from collections import defaultdict

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace

from .. import access, metrics
from ..admin.live import LiveHub
from ..auth import sockets as sockauth
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized, WebshellError
from ..extensions import socketio
from . import validate
from .registry import SessionRegistry, Settings

log = logging.getLogger(__name__)
NAMESPACE = "/terminal"


class SocketIORuntime:
    """The domain's spawn/sleep, served by Flask-SocketIO so the async mode stays swappable."""

    def spawn(self, fn, *args):
        return socketio.start_background_task(fn, *args)

    def sleep(self, seconds: float) -> None:
        socketio.sleep(seconds)


def _emit_output(session, sid, data, ack):
    metrics.terminal_bytes("out", len(data))
    socketio.emit("output", {"session": session.id, "data": data}, to=sid, namespace=NAMESPACE,
                  callback=ack)


def _emit_to(event, payload, sid):
    socketio.emit(event, payload, to=sid, namespace=NAMESPACE)


def _emit_exit(session, sid, code, reason):
    if sid:
        socketio.emit("exit", {"session": session.id, "code": code, "reason": reason}, to=sid,
                      namespace=NAMESPACE)


def _no_delay(environ: dict) -> None:
    """Send small frames at once on this client's connection (TCP_NODELAY).

    An output event is two websocket frames (the event, then its binary attachment); with
    Nagle's algorithm on, the second waits for the client's delayed ACK: ~40 ms per keystroke echo.
    """
    sock = None
    if "eventlet.input" in environ:
        sock = environ["eventlet.input"].get_socket()
    elif "werkzeug.socket" in environ:
        sock = environ["werkzeug.socket"]
    elif "gunicorn.socket" in environ:
        sock = environ["gunicorn.socket"]
    else:   # gevent's pywsgi: the input is the connection's buffered reader
        rfile = environ.get("wsgi.input")
        rfile = getattr(rfile, "rfile", rfile)
        sock = getattr(getattr(rfile, "raw", None), "_sock", None)
    try:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError) as e:
        log.debug("TCP_NODELAY not set: %s", e)


def _answer(fn):
    """Run a handler; turn every error into {ok: false, error: {code, message}}."""
    def wrapper(self, data=None):
        try:
            self.guard.act_as(request.sid)   # a token socket acts as the token's user, checked live
            return {"ok": True, **(fn(self, data) or {})}
        except WebshellError as e:
            return {"ok": False, "error": e.to_dict()}
        except Exception:  # noqa: BLE001 - a bad event never takes the server down
            log.exception("terminal event %s failed", fn.__name__)
            return {"ok": False, "error": {"code": "internal", "message": "internal error"}}
    wrapper.__name__ = fn.__name__
    return wrapper


class TerminalNamespace(Namespace):
    """Client events → registry calls. Every emit goes to the session's current client only."""

    def __init__(self, registry: SessionRegistry, max_input: int, max_size: int, hub: LiveHub,
                 recheck_interval: float):
        super().__init__(NAMESPACE)
        self.registry, self.max_input, self.max_size = registry, max_input, max_size
        self.sids_by_user: dict[str, set[str]] = defaultdict(set)
        self.user_by_sid: dict[str, str] = {}
        self.hub = hub   # recordings and admin watchers
        self.guard = sockauth.SocketGuard(recheck_interval, self.disconnect_user,
                                          lambda sid: socketio.server.disconnect(sid, namespace=NAMESPACE),
                                          lambda sid, reason: self._close(sid, reason))

    def _user(self) -> str:
        uid = self.user_by_sid.get(request.sid)
        if uid is None:
            raise Unauthorized("not authenticated")
        return uid

    def on_connect(self, auth=None):
        try:
            user, token_id = sockauth.authenticate(auth)   # token ({token} or Bearer), else the cookie
        except Unauthorized as e:
            log.info("socket refused: %s sid=%s", e.message, request.sid)
            raise ConnectionRefusedError(e.message) from None
        _no_delay(request.environ)
        uid = user.get_id()
        self.user_by_sid[request.sid] = uid
        self.sids_by_user[uid].add(request.sid)
        self.guard.connected(request.sid, user, token_id)

    def on_disconnect(self, *args):
        uid = self.user_by_sid.pop(request.sid, None)
        if uid is not None:
            self.sids_by_user[uid].discard(request.sid)
        self.guard.disconnected(request.sid)
        self.hub.unwatch(request.sid)
        self.registry.detach_client(request.sid)

    @_answer
    def on_open(self, data):
        d = validate.open_request(data, self.max_size)
        target = {k: d[k] for k in ("cluster", "namespace", "pod", "container")}
        try:
            access.check(current_user, access.EXEC, d["cluster"], d["namespace"])
            s = self.registry.open(self._user(), d["cluster"], d["namespace"], d["pod"], d["container"],
                                   d["command"], d["cols"], d["rows"], request.sid,
                                   headers=access.impersonation(current_user))
        except WebshellError as e:
            access.audit("terminal.open.denied" if e.code == "forbidden" else "terminal.open.failed",
                         current_user, code=e.code, **target)
            raise
        self.hub.started(s, d["cols"], d["rows"], current_user.username)
        self.guard.opened(request.sid, s.id)
        access.audit("terminal.open", current_user, session=s.id, shell=s.shell[0], **target)
        return {"session": s.id, "shell": s.shell[0], "container": s.target.container}

    @_answer
    def on_input(self, data):
        sid, payload = validate.input_request(data, self.max_input)
        metrics.terminal_bytes("in", len(payload))
        if not self.registry.get(sid, self._user()).write(payload):
            raise BadRequest("the terminal is closed")

    @_answer
    def on_resize(self, data):
        sid, cols, rows = validate.resize_request(data, self.max_size)
        self.registry.get(sid, self._user()).resize(cols, rows)

    @_answer
    def on_close(self, data):
        sid = validate.session_id(data)
        self.registry.get(sid, self._user()).close("closed by the user")

    @_answer
    def on_attach(self, data):
        sid = validate.session_id(data)
        s = self.registry.get(sid, self._user())
        access.check(current_user, access.EXEC, s.target.cluster, s.target.namespace)
        if s.sid and s.sid != request.sid:
            s.detach(s.sid)   # the newest tab of the same owner takes the session over
        replay = s.attach(request.sid)
        return {"session": s.id, "shell": s.shell[0], "container": s.target.container,
                "target": {"cluster": s.target.cluster, "namespace": s.target.namespace,
                           "pod": s.target.pod}, "replay": replay}

    @_answer
    def on_list(self, data):
        return {"sessions": [{"session": s.id, "cluster": s.target.cluster, "namespace": s.target.namespace,
                              "pod": s.target.pod, "container": s.target.container, "shell": s.shell[0],
                              "attached": s.sid is not None}
                             for s in self.registry.sessions(self._user()) if not s.closed]}

    # -- admins: list every live session, watch one read-only, terminate ------------
    def _admin(self, what: str) -> None:
        if not (current_user.is_authenticated and current_user.is_admin):
            access.audit("access.denied", current_user, action=what)
            raise Forbidden("only admins may do that")

    def live(self, session_id: str):
        s = next((s for s in self.registry.sessions() if s.id == session_id and not s.closed), None)
        if s is None:
            raise NotFound("no such live session")
        return s

    @_answer
    def on_sessions(self, data):
        self._admin("sessions")
        return {"sessions": [self.hub.describe(s) for s in self.registry.sessions() if not s.closed]}

    @_answer
    def on_watch(self, data):
        self._admin("watch")
        s = self.live(validate.session_id(data))
        watched = self.hub.watch(s.id, request.sid)
        access.audit("session.watch", current_user, session=s.id, owner=s.owner, cluster=s.target.cluster,
                     namespace=s.target.namespace, pod=s.target.pod)
        return watched

    @_answer
    def on_unwatch(self, data):
        self.hub.unwatch(request.sid, validate.session_id(data))

    @_answer
    def on_terminate(self, data):
        self._admin("terminate")
        self.terminate(validate.session_id(data), current_user)

    def terminate(self, session_id: str, by) -> None:
        s = self.live(session_id)
        access.audit("session.terminate", by, session=s.id, owner=s.owner, cluster=s.target.cluster,
                     namespace=s.target.namespace, pod=s.target.pod)
        s.close(f"terminated by admin {by.username}")

    def _close(self, session_id: str, reason: str) -> None:
        for s in self.registry.sessions():
            if s.id == session_id:
                s.close(reason)

    def ended(self, session, code, reason) -> None:
        """Every session end: stop its recording, tell its watchers, audit it with its duration."""
        self.hub.ended(session, code, reason)
        self.guard.ended(session.id)
        t = session.target
        access.audit("terminal.close", session.owner, session=session.id, cluster=t.cluster,
                     namespace=t.namespace, pod=t.pod, container=t.container, code=code, reason=reason,
                     duration=round(time.time() - session.started_at, 1))

    def disconnect_user(self, uid: str, reason: str) -> None:
        """Log-out and the like: end the user's sessions and drop their sockets."""
        self.registry.close_owner(uid, reason)
        for sid in list(self.sids_by_user.get(uid, ())):
            socketio.server.disconnect(sid, namespace=NAMESPACE)


def init_app(app, clusters) -> TerminalNamespace:
    cfg = app.config
    namespaces: list[TerminalNamespace] = []

    def on_exit(session, sid, code, reason):
        _emit_exit(session, sid, code, reason)
        namespaces[0].ended(session, code, reason)
    registry = SessionRegistry(clusters, SocketIORuntime(), Settings.from_config(cfg), _emit_output, on_exit)
    hub = LiveHub(app.extensions.get("kws.recordings"), _emit_to, cfg["REPLAY_BYTES"])
    ns = TerminalNamespace(registry, cfg["MAX_INPUT_BYTES"], cfg["MAX_TERMINAL_SIZE"], hub, cfg["AUTH_RECHECK"])
    namespaces.append(ns)
    # The guard's pass every AUTH_RECHECK seconds also keeps eventlet's hub waking up, so that
    # the work a signal handler schedules (shutdown) runs promptly.
    ns.guard.start(app, socketio.start_background_task, socketio.sleep,
                   lambda: {s.owner for s in registry.sessions()})
    socketio.on_namespace(ns)
    app.extensions["kws.terminal"] = ns
    return ns


def terminal() -> TerminalNamespace:
    return current_app.extensions["kws.terminal"]


def shutdown_on_signals(app) -> None:
    """On SIGTERM/SIGINT: close every session and hang up its shell, then exit.

    The reaper starts now, not at the first terminal: its one-second loop also keeps the
    event loop waking up, so the task spawned from the signal handler runs promptly.
    """
    import os
    import signal

    def _stop() -> None:
        try:
            app.extensions["kws.terminal"].registry.shutdown(timeout=app.config["SHUTDOWN_TIMEOUT"])
        finally:
            log.info("shut down")
            logging.shutdown()
            os._exit(0)

    def _handler(signum, frame) -> None:
        log.info("signal %s: closing every terminal", signum)
        socketio.start_background_task(_stop)

    app.extensions["kws.terminal"].registry.start_reaper()
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
