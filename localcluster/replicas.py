"""Two or three console replicas sharing a database, Redis and a recordings folder, behind HAProxy."""
from __future__ import annotations

import secrets
import signal
from pathlib import Path

from .console import ConsoleServer
from .haproxy import HAProxy


class ReplicaSet:
    """Replicas r0..rN-1 (KWS_REPLICA_NAME = HAProxy's cookie value), started one by one, and the balancer."""

    def __init__(self, kubeconfig: Path, folder: Path, database_url: str, redis_url: str, count: int = 2,
                 **env: str):
        secret = secrets.token_hex(32)   # one signing key: a login cookie is valid on every replica
        shared = {"database_url": database_url, "message_queue": redis_url, "secret_key": secret,
                  "recordings_dir": str(folder / "recordings"), **env}
        self.servers = {f"r{i}": ConsoleServer(kubeconfig, folder / f"r{i}", replica_name=f"r{i}", **shared)
                        for i in range(count)}
        self.balancer = HAProxy(folder / "haproxy", {n: s.port for n, s in self.servers.items()})

    def start(self) -> "ReplicaSet":
        try:
            for srv in self.servers.values():
                srv.start()
            self.balancer.start()
        except Exception:
            self.stop()
            raise
        return self

    @property
    def url(self) -> str:
        return self.balancer.url

    def __getitem__(self, name: str) -> ConsoleServer:
        return self.servers[name]

    def kill(self, name: str) -> None:
        """SIGKILL one replica: no chance to hang up its shells."""
        self.servers[name].stop(signal.SIGKILL)

    def stop(self) -> None:
        self.balancer.stop()
        for srv in self.servers.values():
            srv.stop()
