"""Wiring: build the terminal service for an app, serve it on /terminal, connect auth's
announcements, and link this replica to the others (with KWS_MESSAGE_QUEUE)."""
from __future__ import annotations

from .. import access
from ..auth import sockets as sockauth
from ..errors import NotFound
from ..extensions import socketio
from .namespace import SocketIORuntime, SocketIOTransport, TerminalNamespace
from .service import TerminalService


def init_app(app, starter) -> TerminalService:
    """Build the terminal service for `app`, serve it on /terminal, and listen to auth's announcements."""
    from .. import events
    cfg = app.config
    from .registry import Settings

    def check(uids, token_ids, logins):
        with app.app_context():
            return sockauth.inactive(uids, token_ids, logins)

    service = TerminalService(starter, SocketIORuntime(), Settings.from_config(cfg), SocketIOTransport(),
                              access.audit, check, cfg["AUTH_RECHECK"], app.extensions.get("kws.recordings"),
                              cfg["REPLAY_BYTES"], cfg["SHARE_MAX_GUESTS"])
    socketio.on_namespace(TerminalNamespace(service, cfg["MAX_INPUT_BYTES"], cfg["MAX_TERMINAL_SIZE"]))
    if cfg["MESSAGE_QUEUE"]:
        service.peers = _replica_link(cfg, service, starter)
        app.extensions["kws.replica_state"] = service.peers.state   # transfer slots (files/limits.py)

    def signed_out(_app, uid, reason):
        service.end_user(uid, reason)
        if service.peers is not None:
            service.peers.ask("end_user", uid=uid, reason=reason)

    def token_revoked(_app, token_id):
        service.revoke_token(token_id)
        if service.peers is not None:
            service.peers.ask("revoke_token", token_id=token_id)
    events.signed_out.connect(signed_out, sender=app, weak=False)
    events.token_revoked.connect(token_revoked, sender=app, weak=False)
    app.extensions["kws.terminal"] = service
    return service


def _replica_link(cfg, service: TerminalService, starter):
    """This replica's link to the others (webshell/replicas/): shared counts, leases, requests."""
    from ..replicas.link import ReplicaLink
    from ..replicas.state import ReplicaState
    state = ReplicaState(cfg["MESSAGE_QUEUE"], cfg["REPLICA_NAME"], cfg["REPLICA_LEASE"], cfg["REDIS_PREFIX"])
    runtime = SocketIORuntime()
    link = ReplicaLink(state, cfg["MAX_SESSIONS"], cfg["MAX_SESSIONS_PER_USER"], runtime.spawn, runtime.sleep,
                       starter.hang_up_pid, access.audit, cfg["REPLICA_REAP_CONCURRENCY"], cfg["POLL_INTERVAL"],
                       cfg["REPLICA_LISTEN_TIMEOUT"])
    link.handlers.update(
        terminate=lambda session, by_name="", reason="": service.terminate_here(session, by_name, reason),
        end_user=lambda uid, reason: service.end_user(uid, reason),
        revoke_token=lambda token_id: service.revoke_token(token_id),
        watch=lambda session, sid, reply: _remote_watch(service, link, session, sid, reply),
        unwatch=lambda sid, session: service.hub.unwatch(sid, session))
    return link


def _remote_watch(service: TerminalService, link, session_id: str, sid: str, reply: str) -> None:
    """Another replica's admin socket `sid` watches a session: only the replica holding it answers."""
    if any(s.id == session_id and not s.closed for s in service.registry.sessions()):
        try:
            link.answer_watch(reply, service.hub.watch(session_id, sid))
        except NotFound:
            link.answer_watch(reply, None)
