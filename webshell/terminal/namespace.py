"""The /terminal Socket.IO namespace: authenticate, validate payloads, call the service, acknowledge.

Every emit goes to one socket id: a session's current client, or a watching admin.
"""
from __future__ import annotations

import logging

from flask import current_app, request
from flask_login import current_user
from flask_socketio import Namespace

from .. import access, internals, metrics
from ..auth import sockets as sockauth
from ..errors import BadRequest, Forbidden, InternalError, NotFound, Unauthorized, WebshellError
from ..extensions import login_manager, socketio
from . import validate
from .guard import Identity
from .service import TerminalService

log = logging.getLogger(__name__)
NAMESPACE = "/terminal"


class SocketIORuntime:
    """The domain's spawn/sleep, served by Flask-SocketIO so the async mode stays swappable."""

    def spawn(self, fn, *args):
        return socketio.start_background_task(fn, *args)

    def sleep(self, seconds: float) -> None:
        socketio.sleep(seconds)


class SocketIOTransport:
    """How the service reaches a socket of this namespace."""

    def output(self, sid: str, session_id: str, data: bytes, ack) -> None:
        metrics.terminal_bytes("out", len(data))
        socketio.emit("output", {"session": session_id, "data": data}, to=sid, namespace=NAMESPACE,
                      callback=ack, ignore_queue=True)   # a session's client is always on its replica

    def send(self, event: str, payload: dict, sid: str) -> None:
        # A watcher may sit on another replica: only then does the emit go through the message queue.
        local = socketio.server.manager.is_connected(sid, NAMESPACE)
        socketio.emit(event, payload, to=sid, namespace=NAMESPACE, ignore_queue=local)

    def disconnect(self, sid: str) -> None:
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def _answer(fn):
    """Run a handler; turn every error into {ok: false, error: {code, message}}."""
    event = fn.__name__.removeprefix("on_").lstrip("_")

    def wrapper(self, *args):
        try:
            return {"ok": True, **(fn(self, *(args or (None,))) or {})}   # no payload: None
        except WebshellError as e:
            return {"ok": False, "error": e.to_dict()}
        except Exception:  # noqa: BLE001 - a bad event never takes the server down
            log.exception("terminal event %s failed", event)
            return {"ok": False, "error": InternalError("internal error").to_dict()}
    wrapper.__name__ = fn.__name__
    return wrapper


class TerminalNamespace(Namespace):
    """Client events → service calls. Input, resize and close touch no database.

    `input` and `resize` only move bytes to a session this socket owns. They skip
    Flask-SocketIO's per-event Flask request context (a Request, a URL adapter and route
    match, an app context, the session, every teardown: three quarters of an input event's
    handling, see docs/PERFORMANCE.md) through the dispatch hook python-socketio documents
    for overriding, `trigger_event`. The socket's identity was checked at connect and the
    guard re-checks it every KWS_AUTH_RECHECK; a handler here gets the sid as an argument.
    """

    def __init__(self, service: TerminalService, max_input: int, max_size: int):
        super().__init__(NAMESPACE)
        self.service, self.max_input, self.max_size = service, max_input, max_size
        self._bare = {"input": self._input, "resize": self._resize}

    def trigger_event(self, event, *args):
        bare = self._bare.get(event)
        if bare is None:
            return super().trigger_event(event, *args)
        sid, *payload = args
        return bare(sid, payload[0] if payload else None)

    def _account(self):
        """The socket's user, fresh from the database (only for events that decide access: open,
        attach, admin); a user disabled since connect is anonymous here, so every check refuses."""
        ident = self.service.identity(request.sid)
        user = sockauth.load_user(ident) if ident.token_id is not None else current_user._get_current_object()
        if user is None or not getattr(user, "is_authenticated", False) or user.get_id() != ident.uid:
            user = login_manager.anonymous_user()
        internals.set_login_user(user)
        return user

    def on_connect(self, auth=None):
        try:
            user, token_id = sockauth.authenticate(auth)   # token ({token} or Bearer), else the cookie
        except Unauthorized as e:
            log.info("socket refused: %s sid=%s", e.message, request.sid)
            raise ConnectionRefusedError(e.message) from None
        self.service.connected(request.sid, Identity(user.get_id(), user.username, token_id,
                                                     sockauth.login_version(token_id)))

    def on_disconnect(self, *args):
        self.service.disconnected(request.sid)

    @_answer
    def on_open(self, data):
        d = validate.open_request(data, self.max_size)
        user = self._account()
        try:
            access.check(user, access.EXEC, d["cluster"], d["namespace"])
        except Forbidden:
            access.audit("terminal.open.denied", user, code="forbidden",
                         **{k: d[k] for k in ("cluster", "namespace", "pod", "container")})
            raise
        headers = access.impersonation(user, d["cluster"])
        access.done_with_database()       # no database connection is held while the exec connects
        s = self.service.open(request.sid, d, headers)
        return {"session": s.id, "shell": s.shell[0], "container": s.target.container}

    @_answer
    def on_debug(self, data):
        """Like open, in a new debug container beside `container` (for images without a shell)."""
        d = validate.open_request(data, self.max_size)
        if d["command"] is not None:
            raise BadRequest("a debug terminal runs the debug image's shell; omit 'command'")
        user = self._account()
        try:
            access.check(user, access.EXEC, d["cluster"], d["namespace"])
            access.check(user, access.DEBUG, d["cluster"], d["namespace"])
        except Forbidden:
            access.audit("terminal.debug.denied", user, code="forbidden",
                         **{k: d[k] for k in ("cluster", "namespace", "pod", "container")})
            raise
        headers = access.impersonation(user, d["cluster"])
        access.done_with_database()
        s, aimed = self.service.debug(request.sid, d, headers)
        return {"session": s.id, "shell": s.shell[0], "container": s.target.container, "target_container": aimed}

    @_answer
    def _input(self, sid, data):
        session_id, payload = validate.input_request(data, self.max_input)
        metrics.terminal_bytes("in", len(payload))
        try:
            s = self.service.session(sid, session_id)
        except NotFound:      # not the owner: a guest who joined read-write may type, nobody else
            s = self.service.sharing.session_for_input(sid, session_id)
        if not s.write(payload):
            raise BadRequest("the terminal is closed")

    @_answer
    def _resize(self, sid, data):
        session_id, cols, rows = validate.resize_request(data, self.max_size)
        self.service.session(sid, session_id).resize(cols, rows)

    @_answer
    def on_close(self, data):
        self.service.session(request.sid, validate.session_id(data)).close("closed by the user")

    @_answer
    def on_attach(self, data):
        s = self.service.session(request.sid, validate.session_id(data))
        access.check(self._account(), access.EXEC, s.target.cluster, s.target.namespace)
        access.done_with_database()
        replay = self.service.attach(request.sid, s)
        return {"session": s.id, "shell": s.shell[0], "container": s.target.container,
                "target": {"cluster": s.target.cluster, "namespace": s.target.namespace,
                           "pod": s.target.pod}, "replay": replay,
                "viewers": self.service.sharing.describe(s)["viewers"]}

    @_answer
    def on_list(self, data):
        return {"sessions": [{"session": s.id, "cluster": s.target.cluster, "namespace": s.target.namespace,
                              "pod": s.target.pod, "container": s.target.container, "shell": s.shell[0],
                              "attached": s.sid is not None}
                             for s in self.service.sessions_of(request.sid)]}

    # -- sharing: the owner invites by name; guests join to watch or type (docs/PROTOCOL.md) ---
    @_answer
    def on_share(self, data):
        session_id, name, mode = validate.share_request(data)
        if sockauth.active_user(name) is None:
            raise NotFound(f"no user '{name}'")
        return self.service.sharing.share(self.service.identity(request.sid), session_id, name, mode)

    @_answer
    def on_unshare(self, data):
        session_id, name, _ = validate.share_request({**(data if isinstance(data, dict) else {}), "mode": "watch"})
        return self.service.sharing.unshare(self.service.identity(request.sid), session_id, name)

    @_answer
    def on_shares(self, data):
        return self.service.sharing.describe_for(self.service.identity(request.sid), validate.session_id(data))

    @_answer
    def on_shared(self, data):
        return {"sessions": self.service.sharing.shared_with(self.service.identity(request.sid))}

    @_answer
    def on_join(self, data):
        return self.service.sharing.join(request.sid, self.service.identity(request.sid), validate.session_id(data))

    @_answer
    def on_leave(self, data):
        self.service.sharing.leave(request.sid, validate.session_id(data))

    # -- admins: list every live session, watch one read-only, terminate ------------
    def _admin(self, what: str):
        user = self._account()
        if not access.is_admin(user):
            access.audit("access.denied", user, action=what)
            raise Forbidden("only admins may do that")
        return user

    @_answer
    def on_sessions(self, data):
        self._admin("sessions")
        return {"sessions": self.service.describe_all()}

    @_answer
    def on_watch(self, data):
        user = self._admin("watch")
        return self.service.watch(request.sid, validate.session_id(data), user)

    @_answer
    def on_unwatch(self, data):
        self.service.unwatch(request.sid, validate.session_id(data))

    @_answer
    def on_terminate(self, data):
        user = self._admin("terminate")
        session = validate.session_id(data)
        why = validate.reason(data.get("reason"), current_app.config["TERMINATE_REASON_MAX"])
        self.service.terminate(session, user, user.username, why)
