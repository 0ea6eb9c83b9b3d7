"""Defensive checks of Socket.IO payloads; each failure is a BadRequest with a clear message."""
from __future__ import annotations

from .. import names
from ..errors import BadRequest

MAX_NAME = 253
MAX_ARGS, MAX_ARG = 64, 4096


def _dict(data) -> dict:
    if not isinstance(data, dict):
        raise BadRequest("payload must be an object")
    return data


def _name(d: dict, key: str, required: bool = True) -> str | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v or len(v) > MAX_NAME or "/" in v:
        raise BadRequest(f"'{key}' must be a non-empty name of at most {MAX_NAME} characters")
    return v


def _size(d: dict, key: str, max_size: int) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= max_size:
        raise BadRequest(f"'{key}' must be an integer from 1 to {max_size}")
    return v


def session_id(data) -> str:
    v = _dict(data).get("session")
    if not isinstance(v, str) or not v or len(v) > 64:
        raise BadRequest("'session' must be a session id")
    return v


def open_request(data, max_size: int) -> dict:
    d = _dict(data)
    command = d.get("command")
    if command is not None:
        if (not isinstance(command, list) or not command or len(command) > MAX_ARGS
                or not all(isinstance(a, str) and len(a) <= MAX_ARG for a in command)):
            raise BadRequest("'command' must be a non-empty list of strings")
    flush = d.get("flush_on_interrupt", True)
    if not isinstance(flush, bool):
        raise BadRequest("'flush_on_interrupt' must be true or false")
    out = {"cluster": _name(d, "cluster"), "namespace": _name(d, "namespace"), "pod": _name(d, "pod"),
           "container": _name(d, "container", required=False), "command": command,
           "cols": _size(d, "cols", max_size), "rows": _size(d, "rows", max_size),
           "flush_on_interrupt": flush}
    names.target(out["cluster"], out["namespace"], out["pod"], out["container"])   # Kubernetes name rules
    return out


def input_request(data, max_bytes: int) -> tuple[str, bytes]:
    sid = session_id(data)
    payload = data.get("data")
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if not isinstance(payload, (bytes, bytearray)) or not payload:
        raise BadRequest("'data' must be non-empty text or bytes")
    if len(payload) > max_bytes:
        raise BadRequest(f"'data' is larger than {max_bytes} bytes")
    return sid, bytes(payload)


def resize_request(data, max_size: int) -> tuple[str, int, int]:
    sid = session_id(data)
    return sid, _size(data, "cols", max_size), _size(data, "rows", max_size)


def reason(raw, limit: int) -> str:
    """An admin's reason for a terminate: text, made one line (no control characters reach the user's tab)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise BadRequest("'reason' must be text")
    text = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    if len(text) > limit:
        raise BadRequest(f"the reason is longer than {limit} characters")
    return text
def share_request(data) -> tuple[str, str, str]:
    """`share`/`unshare`: (session id, the user name invited, mode 'watch' | 'join')."""
    d = _dict(data)
    user, mode = d.get("user"), d.get("mode", "watch")
    if not isinstance(user, str) or not user or len(user) > 80:
        raise BadRequest("'user' must be a user name")
    if mode not in ("watch", "join"):
        raise BadRequest("'mode' is 'watch' or 'join'")
    return session_id(d), user, mode
