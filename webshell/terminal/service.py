"""The terminal service: the one object that transport (Socket.IO events, HTTP views) talks to.

It owns the session registry, the live hub (recordings and admin watchers) and the socket
guard, and knows how a session's output and end reach its client. It imports neither Flask
nor Socket.IO: the app hands it a transport, a runtime (spawn/sleep), an audit function and
an identity checker.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from ..errors import NotFound, Unauthorized, WebshellError
from .guard import Checker, Identity, SocketGuard
from .hub import LiveHub
from .recording import RecordingStore
from .registry import SessionRegistry, Settings, Starter
from .session import Runtime, TerminalSession
from .sharing import Sharing

log = logging.getLogger(__name__)


class Transport(Protocol):
    """How the service reaches sockets (Socket.IO in the app, a recorder in unit tests)."""

    def output(self, sid: str, session_id: str, data: bytes, ack: Callable[..., None]) -> None: ...
    def send(self, event: str, payload: dict, sid: str) -> None: ...
    def disconnect(self, sid: str) -> None: ...


# audit(event, actor, **fields): actor is an Identity, a user id, a user name or None.
Audit = Callable[..., None]


class TerminalService:
    """Open, use, watch and end terminals; cut users and tokens; report; shut down."""

    def __init__(self, starter: Starter, runtime: Runtime, settings: Settings, transport: Transport,
                 audit: Audit, check: Checker, recheck_interval: float, recordings: RecordingStore | None,
                 tail_bytes: int, max_guests: int = 10):
        self.runtime, self.transport, self._audit = runtime, transport, audit
        self.registry = SessionRegistry(starter, runtime, settings, self._output, self._ended)
        self.hub = LiveHub(recordings, transport.send, tail_bytes)
        self.guard = SocketGuard(recheck_interval, check, self.end_user, transport.disconnect,
                                 self.close_session, audit)
        self._names: dict[str, str] = {}   # session id -> owner's user name (audit, admin lists)
        self._terminated: dict[str, dict] = {}   # session id -> {by, reason} of an admin's terminate, for `exit`
        # Invited guests (watch / join read-write) and who is watching, told to the owner.
        self.sharing = Sharing(self.registry, self.hub, transport.send, audit, max_guests)
        self.peers = None   # a replicas.link.ReplicaLink when replicas share Redis (KWS_MESSAGE_QUEUE)

    def start(self) -> None:
        """Start the background work: the reaper, the recordings' flusher and the guard's re-check (idempotent)."""
        self.registry.start_reaper()
        self.hub.start(self.runtime.spawn, self.runtime.sleep)
        if self.peers is not None:
            self.peers.start()
        self.guard.start(self.runtime.spawn, self.runtime.sleep,
                         lambda: {s.owner for s in self.registry.sessions()})

    # -- sockets -----------------------------------------------------------------
    def connected(self, sid: str, ident: Identity) -> None:
        self.guard.connected(sid, ident)

    def disconnected(self, sid: str) -> None:
        self.guard.disconnected(sid)
        self.sharing.leave(sid)
        self.hub.unwatch(sid)
        if self.peers is not None:
            self.peers.unwatch(sid)
        self.registry.detach_client(sid)

    def identity(self, sid: str) -> Identity:
        ident = self.guard.identity(sid)
        if ident is None:
            raise Unauthorized("not authenticated")
        return ident

    # -- a user's own terminals -----------------------------------------------------
    def open(self, sid: str, request: dict, headers: dict[str, str] | None = None) -> TerminalSession:
        """Open a terminal for the socket's user; `request` is a validated `open` payload."""
        ident = self.identity(sid)
        target = {k: request[k] for k in ("cluster", "namespace", "pod", "container")}
        slot = None
        try:
            slot = self.peers.reserve(ident.uid) if self.peers is not None else None
            s = self.registry.open(ident.uid, request["cluster"], request["namespace"], request["pod"],
                                   request["container"], request["command"], request["cols"], request["rows"],
                                   sid, headers=headers, flush_on_interrupt=request.get("flush_on_interrupt", True),
                                   owner_name=ident.username)
        except BaseException as e:
            if slot is not None:
                self.peers.release(slot, ident.uid)
            if isinstance(e, WebshellError):
                self._audit("terminal.open.denied" if e.code == "forbidden" else "terminal.open.failed",
                            ident, code=e.code, **target)
            raise
        self._names[s.id] = ident.username
        if self.peers is not None:
            self.peers.opened(s, slot, ident.username)
        self.hub.started(s, request["cols"], request["rows"], ident.username)
        self.guard.opened(sid, s.id)
        self._audit("terminal.open", ident, session=s.id, shell=s.shell[0], **target)
        return s

    def debug(self, sid: str, request: dict, headers: dict[str, str] | None = None) -> tuple[TerminalSession, str]:
        """A debug container beside the requested container, and a terminal in it (`kubectl debug
        --target`); returns the session and the target container's name."""
        ident = self.identity(sid)
        target = {k: request[k] for k in ("cluster", "namespace", "pod", "container")}
        try:
            name, aimed, image = self.registry.starter.add_debug_container(
                request["cluster"], request["namespace"], request["pod"], request["container"], headers)
        except WebshellError as e:
            self._audit("terminal.debug.failed", ident, code=e.code, **target)
            raise
        self._audit("terminal.debug", ident, image=image, debug_container=name, **{**target, "container": aimed})
        return self.open(sid, {**request, "container": name, "command": None}, headers), aimed

    def session(self, sid: str, session_id) -> TerminalSession:
        """The socket user's live session `session_id` (another user's is not found either)."""
        uid = self.identity(sid).uid
        try:
            return self.registry.get(session_id, uid)
        except NotFound:
            if self.peers is None:
                raise
            self.peers.explain_missing(session_id, uid)   # wrong_replica, or why it ended
            raise

    def attach(self, sid: str, s: TerminalSession) -> bytes:
        """Make socket `sid` the client of its user's session `s` (the newest tab wins); the replay.
        The socket that had it is told (`detached`), so that its tab says so in words."""
        old = s.sid
        if old and old != sid and s.detach(old):
            self.transport.send("detached", {"session": s.id, "reason": "taken_over"}, old)
        return s.attach(sid)

    def sessions_of(self, sid: str) -> list[TerminalSession]:
        return [s for s in self.registry.sessions(self.identity(sid).uid) if not s.closed]

    # -- admins ----------------------------------------------------------------------
    def live(self, session_id: str) -> TerminalSession:
        s = next((s for s in self.registry.sessions() if s.id == session_id and not s.closed), None)
        if s is None:
            raise NotFound("no such live session")
        return s

    def describe_all(self) -> list[dict]:
        mine = [self.hub.describe(s) for s in self.registry.sessions() if not s.closed]
        if self.peers is None:
            return mine
        return [{**d, "replica": self.peers.name} for d in mine] + self.peers.remote_sessions()

    def watch(self, sid: str, session_id: str, by) -> dict:
        remote = self.peers.remote(session_id) if self.peers is not None and not any(
            s.id == session_id for s in self.registry.sessions()) else None
        if remote is not None:
            replica, rec = remote
            watched = self.peers.watch(session_id, sid)
            self._audit("session.watch", by, session=session_id, owner=rec.get("user"), replica=replica,
                        cluster=rec["cluster"], namespace=rec["namespace"], pod=rec["pod"])
            return watched
        s = self.live(session_id)
        watched = self.hub.watch(s.id, sid)
        self.sharing.admin_watching(s, sid, getattr(by, "username", str(by)))   # the owner sees who watches
        self._audit("session.watch", by, session=s.id, owner=self._names.get(s.id, s.owner),
                    cluster=s.target.cluster, namespace=s.target.namespace, pod=s.target.pod)
        return watched

    def unwatch(self, sid: str, session_id: str | None = None) -> None:
        self.sharing.leave(sid, session_id)
        self.hub.unwatch(sid, session_id)
        if self.peers is not None:
            self.peers.unwatch(sid, session_id)

    def terminate(self, session_id: str, by, by_name: str, reason: str = "") -> None:
        """An admin ends a session, on whichever replica holds it; the user's `exit` carries
        `terminated: {by, reason}`."""
        remote = self.peers.remote(session_id) if self.peers is not None and not any(
            s.id == session_id for s in self.registry.sessions()) else None
        if remote is not None:   # the owner closes it (its client sees who and why) and audits the end
            replica, rec = remote
            self._audit("session.terminate", by, session=session_id, owner=rec.get("user"), replica=replica,
                        cluster=rec["cluster"], namespace=rec["namespace"], pod=rec["pod"], reason=reason)
            self.peers.ask("terminate", session=session_id, by_name=by_name, reason=reason)
            return
        s = self.live(session_id)
        self._audit("session.terminate", by, session=s.id, owner=self._names.get(s.id, s.owner),
                    cluster=s.target.cluster, namespace=s.target.namespace, pod=s.target.pod, reason=reason)
        self.terminate_here(s.id, by_name, reason)

    def terminate_here(self, session_id: str, by_name: str, reason: str = "") -> None:
        """End a session this replica holds for an admin (of this replica or another one)."""
        for s in self.registry.sessions():
            if s.id == session_id:
                self._terminated[s.id] = {"by": by_name, "reason": reason}
                s.close(f"terminated by admin {by_name}" + (f": {reason}" if reason else ""))
                self._terminated.pop(s.id, None)      # close() ends synchronously; left only if it had ended already

    # -- cutting off -------------------------------------------------------------------
    def end_user(self, uid: str, reason: str) -> None:
        """Log-out and the like: end the user's sessions and drop their sockets."""
        self.registry.close_owner(uid, reason)
        for sid in self.guard.sockets_of(uid):
            self.transport.disconnect(sid)

    def revoke_token(self, token_id: int) -> None:
        """A token was revoked: cut its sockets and sessions now rather than at the next re-check."""
        self.guard.cut_token(token_id)

    def close_session(self, session_id: str, reason: str) -> None:
        for s in self.registry.sessions():
            if s.id == session_id:
                s.close(reason)

    # -- reporting and the end ---------------------------------------------------------
    def stats(self) -> dict:
        return self.registry.stats()

    def shutdown(self) -> None:
        """Close every session and wait (bounded) until their shells are hung up."""
        self.registry.shutdown()
        if self.peers is not None:
            self.peers.leave()

    def _output(self, session: TerminalSession, sid: str, data: bytes, ack: Callable[..., None]) -> None:
        self.transport.output(sid, session.id, data, ack)

    def _ended(self, session: TerminalSession, sid: str | None, code: int | None, reason: str) -> None:
        """Every session end: tell its client and watchers, stop its recording, audit it with its duration."""
        terminated = self._terminated.pop(session.id, None)
        if sid:
            msg = {"session": session.id, "code": code, "reason": reason}
            if terminated is not None:
                msg["terminated"] = terminated
            self.transport.send("exit", msg, sid)
        self.hub.ended(session, code, reason)
        self.sharing.ended(session.id)
        self.guard.ended(session.id)
        if self.peers is not None:
            self.peers.ended(session, reason)
        t = session.target
        name = self._names.pop(session.id, None)
        self._audit("terminal.close", Identity(session.owner, name) if name else session.owner,
                    session=session.id, cluster=t.cluster, namespace=t.namespace, pod=t.pod,
                    container=t.container, code=code, reason=reason,
                    duration=round(time.time() - session.started_at, 1))
