"""Console servers for the benchmarks: the tests' ConsoleServer, optionally under a profiler."""
from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path

import requests

from localcluster.console import ConsoleServer, login

log = logging.getLogger(__name__)


class BenchServer(ConsoleServer):
    """A ConsoleServer in a chosen async mode; with `profile`, run under pyinstrument; with
    `root`, the console of another checkout (`--before`: the same run measures both)."""

    def __init__(self, kubeconfig: Path, instance: Path, profile: Path | None = None,
                 root: Path | None = None, **env: str):
        super().__init__(kubeconfig, instance, **env)
        self.profile, self.root = profile, root
        if profile is not None:
            self.env["KWS_BENCH_PROFILE"] = str(profile)
        if root is not None:
            self.env["KWS_BENCH_APP_ROOT"] = str(root)

    def command(self) -> list[str]:
        if self.profile is not None:
            return [sys.executable, "-m", "bench.profserve"]
        if self.root is not None:
            return [sys.executable, str(self.root / "app.py")]   # imports webshell from there
        return super().command()

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.profile is not None and self.proc is not None and self.proc.poll() is None:
            sig = signal.SIGUSR1   # writes the profile, then exits
        return super().stop(sig)

    def drain(self, timeout: float = 120.0) -> float:
        """Wait until the server has no terminal and no hang-up in flight; return the seconds waited.

        A closed session's shell is hung up by a background exec; stopping the server before
        that exec ran would leave the shell behind in the container.
        """
        t0 = time.monotonic()
        try:
            http = login(self)
            while time.monotonic() - t0 < timeout:
                t = http.get(f"{self.url}/api/stats", timeout=10).json()["terminals"]
                if t.get("sessions", 0) == 0 and t.get("hangups", 0) == 0 and t.get("pumps", 0) == 0:
                    break
                time.sleep(0.2)
            else:
                log.warning("server still busy after %.0fs: %s", timeout, t)
        except (requests.RequestException, KeyError, ValueError, AssertionError) as e:
            log.warning("cannot read the server's stats: %s", e)
        return time.monotonic() - t0

    def fds(self) -> int:
        """Open file descriptors of the server process."""
        return len(list(Path(f"/proc/{self.proc.pid}/fd").iterdir()))
