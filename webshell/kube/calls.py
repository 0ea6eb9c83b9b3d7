"""One deadline per Kubernetes API call, retries included, and errors that never show the address.

urllib3's own retries are switched off (clusters.py): with them, a frozen API server held
a listing for three attempts of KWS_KUBE_TIMEOUT each. Here a call is tried again only
when the connection broke before any answer (a pooled keep-alive connection the server
closed), and only within what is left of its one deadline.
"""
from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from urllib3.exceptions import HTTPError, ProtocolError

from ..errors import ClusterUnavailable
from .apierrors import translate

log = logging.getLogger(__name__)
T = TypeVar("T")
_BROKEN = (ProtocolError, http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def not_answering(cluster: str, what: str) -> ClusterUnavailable:
    """What the user is told; the address goes to the log only."""
    return ClusterUnavailable(f"cluster '{cluster}' is not answering (while trying to {what})")


def call(cluster: str, address: str, timeout: float, what: str, fn: Callable[..., T], *args,
         missing: str | None = None, pause: float, **kwargs) -> T:
    """`fn(*args, _request_timeout=<what is left>, **kwargs)`, within `timeout` seconds in all.

    A broken connection is tried again after `pause` seconds (KWS_KUBE_RETRY_PAUSE) while time is left.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            return fn(*args, _request_timeout=max(left, 0.05), **kwargs)
        except _BROKEN as e:
            if deadline - time.monotonic() > pause + 0.05:
                log.info("cluster %s (%s): connection broke while trying to %s, trying again: %s",
                         cluster, address, what, e)
                time.sleep(pause)
                continue
            raise _unreachable(cluster, address, what, e) from None
        except Exception as e:  # noqa: BLE001 - translated
            raise error(cluster, address, what, e, missing) from None


def error(cluster: str, address: str, what: str, e: Exception, missing: str | None = None) -> Exception:
    """The webshell error for a failed call to `cluster` (for calls that cannot go through `call`,
    such as a log stream, whose read timeout is not the call's deadline)."""
    if isinstance(e, (HTTPError, OSError)):       # timeouts, refused or failed connections, TLS
        return _unreachable(cluster, address, what, e)
    err = translate(e, what, missing)             # ApiException and the rest
    if isinstance(err, ClusterUnavailable) and getattr(e, "status", None) in (0, None):
        return _unreachable(cluster, address, what, e)
    return err


def _unreachable(cluster: str, address: str, what: str, e: Exception) -> ClusterUnavailable:
    log.warning("cluster %s at %s is not answering (while trying to %s): %s", cluster, address, what, e)
    return not_answering(cluster, what)
