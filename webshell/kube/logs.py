"""Container logs through the pods/log API, streamed in bounded pieces (the only place logs touch `kubernetes`)."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from urllib3.exceptions import HTTPError

from . import calls
from .clusters import ClusterRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogOptions:
    """What `kubectl logs` offers; None means the API server's default."""

    container: str | None = None
    follow: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: str | None = None      # RFC 3339, as the API takes it
    previous: bool = False
    timestamps: bool = False

    def query(self) -> dict:
        q = {"follow": self.follow, "previous": self.previous, "timestamps": self.timestamps}
        for key, value in (("container", self.container), ("tail_lines", self.tail_lines),
                           ("since_seconds", self.since_seconds), ("since_time", self.since_time)):
            if value is not None:
                q[key] = value
        return q


class LogStream:
    """An open log response: iterate for byte pieces of at most `chunk` bytes; close() hangs up."""

    def __init__(self, response, chunk: int, what: str):
        self._resp = response
        self._chunk = chunk
        self._what = what
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            while not self.closed:
                # read1: what has arrived (up to chunk), without waiting to fill the piece.
                data = self._resp.read1(self._chunk) if hasattr(self._resp, "read1") else self._resp.read(self._chunk)
                if not data:
                    return
                yield data
        except (HTTPError, OSError) as e:
            # A read timeout on a quiet follow, or the API server going away: the stream ends, the
            # browser resumes from its last timestamp.
            log.info("log stream of %s ended: %s", self._what, e)
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._resp.close()
            self._resp.release_conn()
        except Exception:  # noqa: BLE001 - closing must not fail the response
            log.debug("closing the log stream of %s failed", self._what, exc_info=True)


def open_logs(reg: ClusterRegistry, cluster: str, namespace: str, pod: str, opts: LogOptions,
              chunk: int, idle_timeout: float, headers: dict[str, str] | None = None) -> LogStream:
    """Start reading a container's log; raise webshell's errors (NotFound, Forbidden, ...) before any byte."""
    core = reg.core(cluster, headers)
    what = f"read the logs of pod '{pod}' in namespace '{namespace}'"
    try:
        resp = core.read_namespaced_pod_log(pod, namespace, _preload_content=False, _headers=headers,
                                            _request_timeout=(reg.timeout, idle_timeout), **opts.query())
    except Exception as e:  # noqa: BLE001 - translated: the user reads the cluster's name, the log its address
        raise calls.error(cluster, reg.address(cluster), what, e, f"pod '{pod}' not found in namespace '{namespace}'") \
            from None
    return LogStream(resp, chunk, f"{cluster}/{namespace}/{pod}/{opts.container or ''}")
