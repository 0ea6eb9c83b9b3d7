"""Where and how to exec: one connection object carries the target and the API client to every exec."""
from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client

from .execstream import ExecStream


@dataclass(frozen=True)
class Target:
    """A container to exec into."""

    cluster: str
    namespace: str
    pod: str
    container: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.namespace}/{self.pod}/{self.container}"


@dataclass(frozen=True)
class Conn:
    """The API client, the target, the timeout and extra headers (impersonation) of every exec."""

    api: client.ApiClient
    target: Target
    timeout: float
    headers: dict[str, str] | None = None
    # File scripts (kube.remote): a stream that sends nothing for this long ends; None waits forever.
    idle: float | None = None

    def exec(self, argv: list[str], *, tty: bool, stdin: bool = True, stderr: bool = True) -> ExecStream:
        """Start `argv` in the target container; raises webshell errors when the server refuses."""
        return ExecStream.open(self, argv, tty=tty, stdin=stdin, stderr=stderr)
