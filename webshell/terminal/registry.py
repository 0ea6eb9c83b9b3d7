"""All live terminal sessions: open (with shell detection), find by owner, reap, shut down."""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from ..errors import BadRequest, LimitReached, NotFound, WebshellError
from ..kube.conn import Target
from .session import ExitSink, Limits, OutputSink, Runtime, Stream, TerminalSession

log = logging.getLogger(__name__)


class Starter(Protocol):
    """How sessions get their program (kube.shell.ShellStarter in the app, a fake in unit tests)."""

    def start(self, cluster: str, namespace: str, pod: str, container: str | None,
              command: list[str] | None, cols: int, rows: int,
              headers: dict[str, str] | None = None) -> StartedShell: ...

    def alive_pods(self, cluster: str, namespace: str) -> set[str]: ...

    def add_debug_container(self, cluster: str, namespace: str, pod: str, container: str | None,
                            headers: dict[str, str] | None = None) -> tuple[str, str, str]:
        """Add a debug container targeting `container`; (its name, the target's name, the image)."""


class StartedShell(Protocol):
    target: Target
    stream: Stream
    program: str
    pid: int | None
    initial: bytes
    can_hang_up: bool

    def hang_up(self) -> bool: ...


@dataclass
class Settings:
    allowed_commands: list[list[str]]
    grace: float
    limits: Limits
    max_sessions: int
    max_per_user: int
    pod_check_interval: float
    shutdown_timeout: float
    poll_interval: float        # how often shutdown looks at the hang-ups still running

    @classmethod
    def from_config(cls, cfg: dict) -> "Settings":
        return cls(allowed_commands=cfg["ALLOWED_COMMANDS"],
                   grace=cfg["SESSION_GRACE"],
                   limits=Limits.from_config(cfg),
                   max_sessions=cfg["MAX_SESSIONS"], max_per_user=cfg["MAX_SESSIONS_PER_USER"],
                   pod_check_interval=cfg["POD_CHECK_INTERVAL"], shutdown_timeout=cfg["SHUTDOWN_TIMEOUT"],
                   poll_interval=cfg["POLL_INTERVAL"])


class SessionRegistry:
    """Creates, finds and ends sessions; one reaper greenlet enforces the grace period."""

    def __init__(self, starter: Starter, runtime: Runtime, settings: Settings,
                 on_output: OutputSink, on_exit: ExitSink):
        self.starter, self.runtime, self.settings = starter, runtime, settings
        self._on_output, self._on_exit = on_output, on_exit
        self._sessions: dict[str, TerminalSession] = {}
        self._lock = threading.Lock()
        self._opening: dict[str, int] = defaultdict(int)   # opens under way, per owner: count toward limits
        self._reaper_started = False
        self._stopping = False

    @property
    def accepting(self) -> bool:
        """False once shutdown began (readiness)."""
        return not self._stopping

    # -- open ---------------------------------------------------------------
    def open(self, owner: str, cluster: str, namespace: str, pod: str, container: str | None,
             command: list[str] | None, cols: int, rows: int, sid: str,
             headers: dict[str, str] | None = None, flush_on_interrupt: bool = True,
             owner_name: str = "") -> TerminalSession:
        self.start_reaper()
        if command is not None and command not in self.settings.allowed_commands:
            raise BadRequest("command is not in the allow-list; omit it to get a shell")
        self._reserve(owner)
        try:
            session = self._start(owner, cluster, namespace, pod, container, command, cols, rows, sid, headers,
                                   flush_on_interrupt, owner_name)
        finally:
            with self._lock:
                self._opening[owner] -= 1
                if not self._opening[owner]:
                    del self._opening[owner]
        return session

    def _start(self, owner, cluster, namespace, pod, container, command, cols, rows, sid, headers,
               flush_on_interrupt, owner_name=""):
        shell = self.starter.start(cluster, namespace, pod, container, command, cols, rows, headers)
        session = TerminalSession(owner, shell.target, [shell.program], shell.stream, self.settings.limits,
                                  self.runtime, self._on_output, self._exited, shell.initial,
                                  shell.hang_up if shell.can_hang_up else None,
                                  flush_on_interrupt=flush_on_interrupt, size=(cols, rows))
        session.owner_name = owner_name
        session.pid = shell.pid   # the shell's PID in its container (shared with other replicas)
        with self._lock:
            self._sessions[session.id] = session
        session.attach(sid)
        session.start()
        log.info("session %s opened: user=%s (id %s) target=%s shell=%s pid=%s",
                 session.id, owner_name or owner, owner, shell.target, shell.program, shell.pid)
        return session

    def _reserve(self, owner: str) -> None:
        """Count an open under way against the limits, or refuse it (opens in flight count too)."""
        with self._lock:
            live = [s for s in self._sessions.values() if not s.closed]
            if len(live) + sum(self._opening.values()) >= self.settings.max_sessions:
                raise LimitReached(f"the server has reached its limit of {self.settings.max_sessions} terminals")
            if sum(1 for s in live if s.owner == owner) + self._opening[owner] >= self.settings.max_per_user:
                raise LimitReached(f"you have reached your limit of {self.settings.max_per_user} terminals")
            self._opening[owner] += 1

    # -- lookup ---------------------------------------------------------------
    def get(self, session_id, owner: str) -> TerminalSession:
        """The caller's live session; another user's session is 'not found' too."""
        s = self._sessions.get(session_id) if isinstance(session_id, str) else None
        if s is None or s.owner != owner or s.closed:
            raise NotFound("no such terminal session (it may have ended)")
        return s

    def sessions(self, owner: str | None = None) -> list[TerminalSession]:
        with self._lock:
            return [s for s in self._sessions.values() if owner is None or s.owner == owner]

    def stats(self) -> dict:
        """Live sessions and the background work behind them."""
        with self._lock:
            live = len(self._sessions)
        return {"sessions": live, **TerminalSession.running}

    def detach_client(self, sid: str) -> None:
        """A socket went away: its sessions wait for the grace period."""
        for s in self.sessions():
            s.detach(sid)

    def close_owner(self, owner: str, reason: str) -> None:
        for s in self.sessions(owner):
            s.close(reason)

    def shutdown(self, reason: str = "server shutting down", timeout: float | None = None) -> None:
        """Close every session and wait (bounded: `timeout`, else the setting) until their shells are hung up."""
        timeout = self.settings.shutdown_timeout if timeout is None else timeout
        self._stopping = True
        sessions = self.sessions()
        for s in sessions:
            s.close(reason)
        deadline = time.monotonic() + timeout
        for s in sessions:
            s.wait_finished(max(0.0, deadline - time.monotonic()))
        # Sessions closed just before shutdown left the registry already; their hang-ups count too.
        while TerminalSession.running["hangups"] > 0 and time.monotonic() < deadline:
            self.runtime.sleep(self.settings.poll_interval)
        if TerminalSession.running["hangups"]:
            log.warning("shutdown: %s hang-ups still pending after %ss", TerminalSession.running["hangups"], timeout)

    def _exited(self, session: TerminalSession, sid, code, reason) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)
        self._on_exit(session, sid, code, reason)

    # -- reaper -------------------------------------------------------------
    def start_reaper(self) -> None:
        """Run the reaper greenlet (idempotent): grace expiry, pod checks, and a hub that never sleeps long."""
        with self._lock:
            if self._reaper_started:
                return
            self._reaper_started = True
        self.runtime.spawn(self._reap_forever)

    def _reap_forever(self) -> None:
        last_pod_check = time.monotonic()
        while not self._stopping:
            self.runtime.sleep(min(1.0, self.settings.grace / 4 or 1.0))
            try:
                self.reap_expired()
                if time.monotonic() - last_pod_check >= self.settings.pod_check_interval:
                    last_pod_check = time.monotonic()
                    self.check_pods()
            except Exception:  # noqa: BLE001 - the reaper must survive anything
                log.exception("reaper pass failed")

    def reap_expired(self) -> None:
        now = time.monotonic()
        for s in self.sessions():
            if s.detached_at is not None and now - s.detached_at > self.settings.grace:
                s.close(f"no client for {self.settings.grace:.0f}s")

    def check_pods(self) -> None:
        """End sessions whose pod was deleted (some runtimes keep the exec alive)."""
        by_ns = defaultdict(list)
        for s in self.sessions():
            by_ns[(s.target.cluster, s.target.namespace)].append(s)
        for (cluster, ns), group in by_ns.items():
            try:
                alive = self.starter.alive_pods(cluster, ns)
            except WebshellError as e:
                log.warning("pod check for %s/%s failed: %s", cluster, ns, e.message)
                continue
            for s in group:
                if s.target.pod not in alive:
                    s.close(f"pod '{s.target.pod}' was deleted")
