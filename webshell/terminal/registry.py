"""All live terminal sessions: open (with shell detection), find by owner, reap, shut down."""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from ..errors import BadRequest, LimitReached, NoShell, NotFound, WebshellError
from ..kube import frames, pods, process
from ..kube.clusters import ClusterRegistry
from ..kube.execstream import ExecStream
from .session import ExitSink, Limits, OutputSink, Runtime, TerminalSession

log = logging.getLogger(__name__)


@dataclass
class Probe:
    ok: bool
    initial: bytes = b""
    pid: int | None = None
    program: str | None = None
    why: str = ""


def _why(output: bytes, reason: str) -> str:
    text = output.decode("utf-8", "replace").strip()
    return f"{text} ({reason})" if text else reason


@dataclass
class Settings:
    shells: list[list[str]]
    allowed_commands: list[list[str]]
    grace: float
    limits: Limits
    max_sessions: int
    max_per_user: int
    pod_check_interval: float
    kube_timeout: float
    probe_timeout: float = 5.0

    @classmethod
    def from_config(cls, cfg: dict) -> "Settings":
        return cls(shells=[[s] for s in cfg["SHELLS"]], allowed_commands=cfg["ALLOWED_COMMANDS"],
                   grace=cfg["SESSION_GRACE"],
                   limits=Limits(cfg["REPLAY_BYTES"], cfg["OUTPUT_WINDOW"], cfg["OUTPUT_BATCH"]),
                   max_sessions=cfg["MAX_SESSIONS"], max_per_user=cfg["MAX_SESSIONS_PER_USER"],
                   pod_check_interval=cfg["POD_CHECK_INTERVAL"], kube_timeout=cfg["KUBE_TIMEOUT"])


class SessionRegistry:
    """Creates, finds and ends sessions; one reaper greenlet enforces the grace period."""

    def __init__(self, clusters: ClusterRegistry, runtime: Runtime, settings: Settings,
                 on_output: OutputSink, on_exit: ExitSink):
        self.clusters, self.runtime, self.settings = clusters, runtime, settings
        self._on_output, self._on_exit = on_output, on_exit
        self._sessions: dict[str, TerminalSession] = {}
        self._lock = threading.Lock()
        self._reaper_started = False
        self._stopping = False

    @property
    def accepting(self) -> bool:
        """False once shutdown began (readiness)."""
        return not self._stopping

    # -- open ---------------------------------------------------------------
    def open(self, owner: str, cluster: str, namespace: str, pod: str, container: str | None,
             command: list[str] | None, cols: int, rows: int, sid: str,
             headers: dict[str, str] | None = None) -> TerminalSession:
        self.start_reaper()
        self._check_limits(owner)
        if command is not None and command not in self.settings.allowed_commands:
            raise BadRequest("command is not in the allow-list; omit it to get a shell")
        target = pods.resolve(self.clusters, cluster, namespace, pod, container, headers)
        api = self.clusters.api_client(cluster)
        shells = [a[0] for a in self.settings.shells]
        # First through the PID-announcing `sh` wrapper; without `sh` in the image, directly.
        attempts = [(process.wrapped(shells, command), True)]
        attempts += [(command, False)] if command is not None else [([s], False) for s in shells]
        failures = []
        for argv, announces in attempts:
            stream = ExecStream.open(api, namespace, pod, target.container, argv, tty=True,
                                     timeout=self.settings.kube_timeout, headers=headers)
            stream.resize(cols, rows)
            probe = self._probe(stream, announces)
            if probe.ok:
                break
            stream.close()
            failures.append(probe.why)
        else:
            what = f"command '{' '.join(command)}'" if command is not None else \
                f"a shell (tried {', '.join(shells)})"
            raise NoShell(f"cannot start {what} in container '{target.container}' of pod '{pod}': "
                          f"{failures[-1]}")
        program = probe.program or argv[0]
        hangup = None
        if probe.pid is not None:
            timeout = self.settings.kube_timeout
            hangup = lambda: process.hang_up(api, namespace, pod, target.container,  # noqa: E731
                                             probe.pid, timeout, headers)
        session = TerminalSession(owner, target, [program], stream, self.settings.limits, self.runtime,
                                  self._on_output, self._exited, probe.initial, hangup)
        with self._lock:
            self._sessions[session.id] = session
        session.attach(sid)
        session.start()
        log.info("session %s opened: user=%s target=%s shell=%s pid=%s",
                 session.id, owner, target, program, probe.pid)
        return session

    def _probe(self, stream: ExecStream, announces: bool) -> "Probe":
        """Did the program start? Wait for its PID announcement (or, unwrapped, any output)."""
        deadline = time.monotonic() + self.settings.probe_timeout
        seen = b""
        while time.monotonic() < deadline:
            if not stream.readable_now():
                self.runtime.sleep(0.01)
                continue
            frame = stream.read()
            if frame is None:
                return Probe(False, why=_why(seen, "the stream closed at once"))
            channel, payload = frame
            if channel == frames.ERROR:
                return Probe(False, why=_why(seen, frames.exit_status(payload).reason))
            if channel in (frames.STDOUT, frames.STDERR):
                seen += payload
                if not announces and seen:
                    return Probe(True, initial=seen)
                pid, program, rest = process.parse_announcement(seen)
                if pid is not None:
                    return Probe(True, initial=rest, pid=pid, program=program)
        return Probe(True, initial=seen)   # alive but silent: no PID to hang up later

    def _check_limits(self, owner: str) -> None:
        with self._lock:
            live = [s for s in self._sessions.values() if not s.closed]
        if len(live) >= self.settings.max_sessions:
            raise LimitReached(f"the server has reached its limit of {self.settings.max_sessions} terminals")
        if sum(1 for s in live if s.owner == owner) >= self.settings.max_per_user:
            raise LimitReached(f"you have reached your limit of {self.settings.max_per_user} terminals")

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

    def shutdown(self, reason: str = "server shutting down", timeout: float = 10.0) -> None:
        """Close every session and wait (bounded) until their shells are hung up."""
        self._stopping = True
        sessions = self.sessions()
        for s in sessions:
            s.close(reason)
        deadline = time.monotonic() + timeout
        for s in sessions:
            s.wait_finished(max(0.0, deadline - time.monotonic()))
        # Sessions closed just before shutdown left the registry already; their hang-ups count too.
        while TerminalSession.running["hangups"] > 0 and time.monotonic() < deadline:
            self.runtime.sleep(0.05)
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
                alive = pods.pod_names(self.clusters, cluster, ns)
            except WebshellError as e:
                log.warning("pod check for %s/%s failed: %s", cluster, ns, e.message)
                continue
            for s in group:
                if s.target.pod not in alive:
                    s.close(f"pod '{s.target.pod}' was deleted")
