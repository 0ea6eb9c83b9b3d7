"""Who may do what: one place that every listing, terminal and transfer asks.

The access-control issue fills these in (rules per user/role, impersonation, audit);
until then every authenticated user may do everything the console's own credentials
allow, and audit events only go to the log.
"""
from __future__ import annotations

import logging

log = logging.getLogger("webshell.audit")

# Actions checked by callers.
LIST, EXEC, UPLOAD, DOWNLOAD = "list", "exec", "upload", "download"


def check(user, action: str, cluster: str, namespace: str | None = None) -> None:
    """Raise errors.Forbidden unless `user` may do `action` in cluster/namespace."""
    return None


def visible(user, cluster: str, namespaces: list[str]) -> list[str]:
    """The namespaces of `cluster` that `user` may see."""
    return namespaces


def impersonation(user) -> dict[str, str] | None:
    """Extra headers that make the cluster act as `user` (impersonation mode), or None."""
    return None


def audit(event: str, user, **fields) -> None:
    """Record an audit event (never keystrokes or file contents)."""
    log.info("audit %s user=%s %s", event, getattr(user, "username", user),
             " ".join(f"{k}={v}" for k, v in fields.items()))
