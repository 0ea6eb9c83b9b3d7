"""Session sharing: the owner invites users by name to watch or to join read-write, sees who is
connected (admins watching included) and revokes guests; every viewer change tells the owner.

Guests see output through the hub like admin watchers; a guest who joined read-write may type,
anyone else's input is refused as before. Invitations and guests end with the session.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import BadRequest, Forbidden, LimitReached, NotFound
from .hub import LiveHub
from .registry import SessionRegistry
from .session import TerminalSession

WATCH, JOIN, ADMIN = "watch", "join", "admin"
MODES = (WATCH, JOIN)
Send = Callable[[str, dict, str], None]


@dataclass(frozen=True)
class Viewer:
    """Someone connected to a session who is not its owner: a guest (watch/join) or a watching admin."""

    sid: str
    username: str
    mode: str


class Sharing:
    def __init__(self, registry: SessionRegistry, hub: LiveHub, send: Send, audit: Callable[..., None],
                 max_guests: int):
        self.registry, self.hub, self._send, self._audit = registry, hub, send, audit
        self.max_guests = max_guests
        self._invites: dict[str, dict[str, str]] = {}     # session id -> user name -> mode
        self._viewers: dict[str, dict[str, Viewer]] = {}  # session id -> sid -> viewer
        self._lock = threading.Lock()

    # -- the owner -------------------------------------------------------------------
    def share(self, owner, session_id: str, username: str, mode: str) -> dict:
        """Invite `username` (an active user, checked by the caller) to `mode` the owner's session."""
        s = self.registry.get(session_id, owner.uid)
        if mode not in MODES:
            raise BadRequest("'mode' is 'watch' or 'join'")
        if username == owner.username:
            raise BadRequest("you cannot share a session with yourself")
        with self._lock:
            invites = self._invites.setdefault(s.id, {})
            if username not in invites and len(invites) >= self.max_guests:
                raise LimitReached(f"at most {self.max_guests} users may share one session")
            invites[username] = mode
            changed = [v for v in self._viewers.get(s.id, {}).values() if v.username == username]
            for v in changed:   # a guest already connected keeps watching with the new mode
                self._viewers[s.id][v.sid] = Viewer(v.sid, v.username, mode)
        self._audit("session.share", owner, session=s.id, guest=username, mode=mode, **_where(s))
        self._tell_owner(s)
        return self.describe(s)

    def unshare(self, owner, session_id: str, username: str) -> dict:
        """Withdraw the invitation of `username`; their open views of the session end now."""
        s = self.registry.get(session_id, owner.uid)
        with self._lock:
            self._invites.get(s.id, {}).pop(username, None)
            gone = [v for v in self._viewers.get(s.id, {}).values() if v.username == username and v.mode != ADMIN]
            for v in gone:
                del self._viewers[s.id][v.sid]
        for v in gone:
            self.hub.unwatch(v.sid, s.id)
            self._send("exit", {"session": s.id, "code": None, "reason": "access revoked by the owner"}, v.sid)
        self._audit("session.unshare", owner, session=s.id, guest=username, ended=len(gone), **_where(s))
        self._tell_owner(s)
        return self.describe(s)

    def describe_for(self, owner, session_id: str) -> dict:
        return self.describe(self.registry.get(session_id, owner.uid))

    def describe(self, s: TerminalSession) -> dict:
        with self._lock:
            invited = [{"user": u, "mode": m} for u, m in sorted(self._invites.get(s.id, {}).items())]
            viewers = [{"user": v.username, "mode": v.mode} for v in self._viewers.get(s.id, {}).values()]
        return {"session": s.id, "invited": invited, "viewers": sorted(viewers, key=lambda v: (v["user"], v["mode"]))}

    # -- guests ----------------------------------------------------------------------
    def shared_with(self, ident) -> list[dict]:
        """The live sessions `ident`'s user has been invited to."""
        with self._lock:
            mine = {sid: inv[ident.username] for sid, inv in self._invites.items() if ident.username in inv}
        out = []
        for s in self.registry.sessions():
            if s.id in mine and not s.closed:
                meta = self.hub.describe(s)
                out.append({"session": s.id, "owner": meta.get("user"), "mode": mine[s.id], **_where(s),
                            "container": s.target.container})
        return out

    def join(self, sid: str, ident, session_id: str) -> dict:
        """Connect socket `sid` of an invited user to the session: the replay, its size, the mode."""
        s = self._live(session_id)
        with self._lock:
            mode = self._invites.get(s.id, {}).get(ident.username)
        if mode is None:
            raise NotFound("no such live session shared with you")
        watched = self.hub.watch(s.id, sid)
        with self._lock:
            self._viewers.setdefault(s.id, {})[sid] = Viewer(sid, ident.username, mode)
        self._audit("session.join", ident, session=s.id, owner=watched["meta"].get("user"), mode=mode, **_where(s))
        self._tell_owner(s)
        return {**watched, "mode": mode}

    def leave(self, sid: str, session_id: str | None = None) -> None:
        """Socket `sid` stops viewing `session_id` (every session when None): on leave or disconnect."""
        left = []
        with self._lock:
            for key, viewers in self._viewers.items():
                if (session_id is None or key == session_id) and viewers.pop(sid, None) is not None:
                    left.append(key)
        for key in left:
            self.hub.unwatch(sid, key)
            s = next((x for x in self.registry.sessions() if x.id == key and not x.closed), None)
            if s is not None:
                self._tell_owner(s)

    def session_for_input(self, sid: str, session_id) -> TerminalSession:
        """The session that socket `sid` joined read-write (input from a watching guest is refused)."""
        with self._lock:
            v = self._viewers.get(session_id, {}).get(sid) if isinstance(session_id, str) else None
        if v is None:
            raise NotFound("no such session")
        if v.mode != JOIN:
            raise Forbidden("you are watching this session read-only")
        return self._live(session_id)

    # -- admins watching, session ends ---------------------------------------------------
    def admin_watching(self, s: TerminalSession, sid: str, username: str) -> None:
        """An admin watches: the owner is told who."""
        with self._lock:
            self._viewers.setdefault(s.id, {})[sid] = Viewer(sid, username, ADMIN)
        self._tell_owner(s)

    def ended(self, session_id: str) -> None:
        with self._lock:
            self._invites.pop(session_id, None)
            self._viewers.pop(session_id, None)

    def _live(self, session_id) -> TerminalSession:
        s = next((x for x in self.registry.sessions() if x.id == session_id and not x.closed), None)
        if s is None:
            raise NotFound("no such live session shared with you")
        return s

    def _tell_owner(self, s: TerminalSession) -> None:
        """`viewers` to the owner's socket: who is connected (so the page can say "being watched by …")."""
        if s.sid:
            self._send("viewers", self.describe(s), s.sid)


def _where(s: TerminalSession) -> dict:
    return {"cluster": s.target.cluster, "namespace": s.target.namespace, "pod": s.target.pod}
