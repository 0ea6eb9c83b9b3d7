"""Translate the Kubernetes client's exceptions into webshell's errors."""
from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from ..errors import BadRequest, ClusterUnavailable, Forbidden, NotFound, WebshellError


def status_message(body: bytes | str | None) -> str:
    """The `message` of a Status body, or the body itself, shortened."""
    if not body:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])[:500]
    except ValueError:
        pass
    return body.strip()[:500]


def from_status(status: int, body, what: str, missing: str | None = None) -> WebshellError:
    """An error for an HTTP status from the API server while trying to `what`."""
    detail = status_message(body)
    if status in (401, 403):
        return Forbidden(f"not allowed to {what}: {detail or 'forbidden by the cluster'}")
    if status == 404:
        return NotFound(missing or f"not found while trying to {what}: {detail}")
    if status in (400, 422):
        return BadRequest(f"cannot {what}: {detail}")
    return ClusterUnavailable(f"the cluster failed to {what} (HTTP {status}): {detail}")


def translate(exc: Exception, what: str, missing: str | None = None) -> WebshellError:
    if isinstance(exc, ApiException):
        if exc.status in (0, None):     # the reason may name the API server's address: not for users
            return ClusterUnavailable(f"the cluster is not answering (while trying to {what})")
        return from_status(exc.status, exc.body, what, missing)
    if isinstance(exc, (HTTPError, OSError)):
        return ClusterUnavailable(f"the cluster is not answering (while trying to {what})")
    raise exc
