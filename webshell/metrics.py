"""The console's Prometheus metrics: the metric objects and the few calls that feed them.

A leaf module (it imports only prometheus_client), so every layer may feed it. Most metrics
are derived from the audit events (`from_audit`), which already mark every login, terminal
open and transfer; the rest are fed by one call each at the place the thing happens.
"""
from __future__ import annotations

import time
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

TERMINALS_OPEN = Gauge("kws_terminals_open", "Terminals open now (attached or in their grace period)",
                       registry=REGISTRY)
TERMINAL_OPENS = Counter("kws_terminal_opens", "Terminal opens by result (ok or the error code)",
                         ["result"], registry=REGISTRY)
EXEC_CONNECT = Histogram("kws_exec_connect_seconds", "Time to open an exec stream to the API server "
                         "(terminals and transfers, refusals included)", registry=REGISTRY,
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
TERMINAL_BYTES = Counter("kws_terminal_bytes", "Terminal bytes: in = typed by clients, out = sent to them",
                         ["direction"], registry=REGISTRY)
TRANSFERS = Counter("kws_transfers", "File transfers by direction and result (ok or the error code)",
                    ["direction", "result"], registry=REGISTRY)
TRANSFER_BYTES = Counter("kws_transfer_bytes", "Bytes moved by file transfers", ["direction", "result"],
                         registry=REGISTRY)
TRANSFER_SECONDS = Histogram("kws_transfer_seconds", "Duration of file transfers", ["direction"],
                             registry=REGISTRY, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
LOGINS = Counter("kws_logins", "Logins (password and SSO) by result: ok, failed, throttled", ["result"], registry=REGISTRY)
AUDIT_FAILURES = Counter("kws_audit_write_failures", "Audit events that could not be stored", registry=REGISTRY)

for _r in ("ok", "failed", "throttled"):
    LOGINS.labels(_r)
TERMINAL_OPENS.labels("ok")
_TERMINAL_BYTES = {d: TERMINAL_BYTES.labels(d) for d in ("in", "out")}   # per event: no label lookup

_LOGIN_EVENTS = {"login": "ok", "login.failed": "failed", "login.throttled": "throttled"}


def track_open_terminals(count: Callable[[], int]) -> None:
    """Read the number of open terminals from `count` at every scrape."""
    TERMINALS_OPEN.set_function(count)


def terminal_bytes(direction: str, n: int) -> None:
    """Count `n` terminal bytes; direction is "in" (typed) or "out" (sent to the client)."""
    _TERMINAL_BYTES[direction].inc(n)


def from_audit(event: str, fields: dict, started: float | None = None) -> None:
    """Count what an audit event says happened (logins, terminal opens, transfers).

    `started` is the monotonic time the request began, for transfer durations when the event
    carries no `duration` of its own.
    """
    if event in _LOGIN_EVENTS:
        LOGINS.labels(_LOGIN_EVENTS[event]).inc()
    elif event == "terminal.open":
        TERMINAL_OPENS.labels("ok").inc()
    elif event in ("terminal.open.denied", "terminal.open.failed"):
        TERMINAL_OPENS.labels(str(fields.get("code") or "forbidden")).inc()
    elif event.startswith("file.upload") or event.startswith("file.download"):
        _transfer(event, fields, started)


def _transfer(event: str, fields: dict, started: float | None) -> None:
    direction = "upload" if event.startswith("file.upload") else "download"
    if event.endswith(".denied"):
        result = "forbidden"
    elif event.endswith(".failed"):
        result = str(fields.get("error") or "failed")
    elif fields.get("complete") is False:
        result = "incomplete"
    else:
        result = "ok"
    TRANSFERS.labels(direction, result).inc()
    size = fields.get("size")   # an upload's failure carries the size it announced, not what it moved
    if isinstance(size, int) and (direction == "download" or result == "ok"):
        TRANSFER_BYTES.labels(direction, result).inc(size)
    if "archive" in fields:
        return   # an archive download is audited when its stream starts: no duration yet
    duration = fields.get("duration")
    if duration is None and started is not None:
        duration = time.monotonic() - started
    if isinstance(duration, (int, float)):
        TRANSFER_SECONDS.labels(direction).observe(duration)
