"""The Kubernetes exec channel protocol (v4/v5.channel.k8s.io), as pure functions.

Every websocket message starts with one byte naming its channel; the rest is payload.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE = 255                      # v5 only: payload is the channel being closed
V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"


def encode(channel: int, payload: bytes = b"") -> bytes:
    return bytes((channel,)) + payload


def decode(message: bytes) -> tuple[int, bytes]:
    """Split a message into (channel, payload); an empty message is (-1, b"")."""
    if not message:
        return -1, b""
    return message[0], message[1:]


def resize(cols: int, rows: int) -> bytes:
    return encode(RESIZE, json.dumps({"Width": cols, "Height": rows}).encode())


def close(channel: int) -> bytes:
    return encode(CLOSE, bytes((channel,)))


@dataclass(frozen=True)
class ExitStatus:
    """How a remote command ended: `code` is None when the server did not say."""

    code: int | None
    reason: str
    failure: bool


def exit_status(payload: bytes) -> ExitStatus:
    """Read the Status object the server sends on the error channel when the command ends.

    A kubelet reports a non-zero exit as reason NonZeroExitCode with the code in
    details.causes; some servers (kwok) report only an InternalError message.
    """
    try:
        status = json.loads(payload.decode("utf-8", "replace") or "{}")
    except ValueError:
        return ExitStatus(None, payload.decode("utf-8", "replace").strip()[:500], True)
    if not isinstance(status, dict):
        return ExitStatus(None, str(status)[:500], True)
    if status.get("status") == "Success":
        return ExitStatus(0, "exited", False)
    message = str(status.get("message") or status.get("reason") or "command failed")[:500]
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
                try:
                    code = int(cause.get("message"))
                except (TypeError, ValueError):
                    break
                return ExitStatus(code, f"exited with code {code}", True)
    return ExitStatus(None, message, True)


class ExecOutput:
    """What one exec said, fed frame by frame: stdout, the first `stderr_keep` bytes of stderr, the status.

    A pure accumulator (no socket): every loop that reads an exec feeds one of these,
    and tests feed it frames directly.
    """

    def __init__(self, stderr_keep: int = 4096):
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.status: ExitStatus | None = None
        self.started = False            # the program printed something
        self.stderr_keep = stderr_keep

    def feed(self, channel: int, payload: bytes) -> None:
        if channel == STDOUT and payload:
            self.started = True
            self.stdout += payload
        elif channel == STDERR and payload:
            self.started = True
            room = self.stderr_keep - len(self.stderr)
            if room > 0:
                self.stderr += payload[:room]
        elif channel == ERROR:
            self.status = exit_status(payload)

    def lost(self, why: str = "the connection to the container closed") -> None:
        """The stream ended without a status."""
        if self.status is None:
            self.status = ExitStatus(None, why, True)

    @property
    def done(self) -> bool:
        return self.status is not None
