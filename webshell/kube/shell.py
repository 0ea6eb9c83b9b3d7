"""Start a terminal's program in a container, learn its PID, and hang it up later.

This is the one interface the terminal domain uses to reach Kubernetes: `ShellStarter.start`
resolves the container, starts a shell (or an allowed command) through the PID-announcing
`sh` wrapper, falls back to starting it directly where the image has no `sh`, and probes
that it really started. The `Shell` it returns carries the stream and a `hang_up()`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import NoShell
from . import debug, frames, pods, process
from .clusters import ClusterRegistry
from .conn import Conn, Target
from .execstream import ExecStream

log = logging.getLogger(__name__)


@dataclass
class Shell:
    """A started terminal program: its stream, what runs, and (when it announced one) its PID."""

    target: Target
    stream: ExecStream
    program: str
    pid: int | None
    initial: bytes            # output that came with the probe, to be shown first
    conn: Conn
    hangup_grace: float

    def hang_up(self) -> bool:
        """End the remote program (a closed stream alone does not on every runtime); False if unconfirmed."""
        if self.pid is None:
            return True
        return process.hang_up(self.conn, self.pid, self.hangup_grace)

    @property
    def can_hang_up(self) -> bool:
        return self.pid is not None


@dataclass
class _Probe:
    ok: bool
    initial: bytes = b""
    pid: int | None = None
    program: str | None = None
    why: str = ""


def _why(output: bytes, reason: str) -> str:
    text = output.decode("utf-8", "replace").strip()
    return f"{text} ({reason})" if text else reason


class ShellStarter:
    """Starts terminals in the clusters of a registry."""

    def __init__(self, clusters: ClusterRegistry, shells: list[str], sleep: Callable[[float], None], *,
                 probe_timeout: float, probe_poll: float, hangup_grace: float, debug_image: str,
                 debug_start_timeout: float, debug_poll: float):
        self.clusters, self.shells, self._sleep = clusters, shells, sleep
        self.probe_timeout, self.probe_poll, self.hangup_grace = probe_timeout, probe_poll, hangup_grace
        self.debug_image, self.debug_start_timeout, self.debug_poll = debug_image, debug_start_timeout, debug_poll

    def start(self, cluster: str, namespace: str, pod: str, container: str | None,
              command: list[str] | None, cols: int, rows: int,
              headers: dict[str, str] | None = None) -> Shell:
        """Start a shell (or `command`) in the container; raises NotFound, NotRunning, NoShell, ..."""
        target = pods.resolve(self.clusters, cluster, namespace, pod, container, headers)
        conn = self.clusters.conn(target, headers)
        # First through the PID-announcing `sh` wrapper; without `sh` in the image, directly.
        attempts = [(process.wrapped(self.shells, command), True)]
        attempts += [(command, False)] if command is not None else [([s], False) for s in self.shells]
        failures = []
        for argv, announces in attempts:
            stream = conn.exec(argv, tty=True)
            stream.resize(cols, rows)
            probe = self._probe(stream, announces)
            if probe.ok:
                return Shell(target, stream, probe.program or argv[0], probe.pid, probe.initial, conn,
                             self.hangup_grace)
            stream.close()
            failures.append(probe.why)
        what = f"command '{' '.join(command)}'" if command is not None else \
            f"a shell (tried {', '.join(self.shells)})"
        raise NoShell(f"cannot start {what} in container '{target.container}' of pod '{pod}': {failures[-1]}")

    def _probe(self, stream: ExecStream, announces: bool) -> _Probe:
        """Did the program start? Wait for its PID announcement (or, unwrapped, any output)."""
        deadline = time.monotonic() + self.probe_timeout
        out = frames.ExecOutput()
        while time.monotonic() < deadline:
            if not stream.readable_now():
                self._sleep(self.probe_poll)
                continue
            alive = stream.read_into(out)
            if out.done:     # the program ended (or never started), or the stream closed
                why = out.status.reason if alive else "the stream closed at once"
                return _Probe(False, why=_why(bytes(out.stdout + out.stderr), why))
            seen = bytes(out.stdout + out.stderr)
            if not seen:
                continue
            if not announces:
                return _Probe(True, initial=seen)
            pid, program, rest = process.parse_announcement(seen)
            if pid is not None:
                return _Probe(True, initial=rest, pid=pid, program=program)
        return _Probe(True, initial=bytes(out.stdout + out.stderr))   # alive but silent: no PID to hang up

    def add_debug_container(self, cluster: str, namespace: str, pod: str, container: str | None,
                            headers: dict[str, str] | None = None) -> tuple[str, str, str]:
        """Add a debug container (kube/debug.py) targeting `container`; (its name, the target's, the image)."""
        target = pods.resolve(self.clusters, cluster, namespace, pod, container, headers)
        name = debug.add(self.clusters, cluster, namespace, pod, target.container, self.debug_image,
                         self.debug_start_timeout, lambda: self._sleep(self.debug_poll), headers)
        return name, target.container, self.debug_image

    def hang_up_pid(self, target: dict, pid: int) -> bool:
        """Hang up process `pid` in a container (a lost replica's shell); True when it is gone."""
        conn = self.clusters.conn(Target(target["cluster"], target["namespace"], target["pod"],
                                         target["container"]))
        return process.hang_up(conn, pid, self.hangup_grace)

    def alive_pods(self, cluster: str, namespace: str) -> set[str]:
        """Names of the pods of a namespace that exist and are not being deleted."""
        return pods.pod_names(self.clusters, cluster, namespace)
