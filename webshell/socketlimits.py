"""Bounds on what a Socket.IO / Engine.IO client can make the server hold, before any handler runs.

The one module that reaches into python-socketio and python-engineio internals
(tests/test_socketlimits.py has one test per touch, which fails on an upgrade that moves them):

- Namespaces: python-socketio accepts `/` even when nothing serves it. The server is told to
  accept only the namespaces that have a handler, and each of those authenticates in `connect`.
- Binary attachments: a BINARY_EVENT header declares how many attachment messages follow, and
  python-socketio buffers them all (`Server._binary_packet`) until the count is reached. The
  Engine.IO `message` handler is wrapped so that a header declaring more than
  MAX_SOCKET_ATTACHMENTS, or attachments adding up to more than MAX_SOCKET_ATTACHMENT_BYTES,
  drops the packet and closes that client at once.
- Long-polling POST bodies: python-engineio refuses one larger than max_http_buffer_size by
  closing the session and waiting for the client's pending GET to drain it; with no GET
  pending the POST is never answered. A WSGI middleware answers such POSTs 413 before
  python-engineio sees them.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

_BINARY_HEADER = re.compile(r"^[56](\d+)-")      # BINARY_EVENT / BINARY_ACK: "5<count>-..."


class AttachmentGuard:
    """Wraps python-socketio's Engine.IO `message` handler; counts each client's pending attachments."""

    def __init__(self, server, max_attachments: int, max_bytes: int):
        self.server = server
        self.max_attachments, self.max_bytes = max_attachments, max_bytes
        self._pending: dict[str, int] = {}        # eio sid -> attachment bytes buffered so far
        self._inner: Callable = server._handle_eio_message
        server.eio.on("message", self.message)
        server.eio.on("disconnect", self._wrap_disconnect(server.eio.handlers["disconnect"]))

    def _wrap_disconnect(self, inner: Callable) -> Callable:
        def disconnect(eio_sid, *args):
            self._pending.pop(eio_sid, None)
            return inner(eio_sid, *args)
        return disconnect

    def message(self, eio_sid: str, data) -> None:
        if eio_sid in self.server._binary_packet:
            size = self._pending.get(eio_sid, 0) + (len(data) if isinstance(data, (bytes, str)) else 0)
            if size > self.max_bytes:
                return self._refuse(eio_sid, f"attachments larger than {self.max_bytes} bytes")
            self._pending[eio_sid] = size
        elif isinstance(data, str):
            m = _BINARY_HEADER.match(data[:16])
            if m and int(m.group(1)) > self.max_attachments:
                return self._refuse(eio_sid, f"a packet declared {m.group(1)[:12]} attachments "
                                             f"(at most {self.max_attachments})")
            self._pending.pop(eio_sid, None)
        self._inner(eio_sid, data)
        if eio_sid not in self.server._binary_packet:
            self._pending.pop(eio_sid, None)

    def _refuse(self, eio_sid: str, why: str) -> None:
        self.server._binary_packet.pop(eio_sid, None)
        self._pending.pop(eio_sid, None)
        log.warning("socket.io client refused: %s (eio sid %s)", why, eio_sid)
        sock = self.server.eio.sockets.get(eio_sid)
        if sock is not None:
            # Not eio.disconnect(): it waits for a long-polling client to collect the CLOSE packet.
            sock.close(wait=False, abort=True)


class PollingBodyLimit:
    """WSGI middleware: an Engine.IO POST longer than `limit` is answered 413 at once."""

    def __init__(self, app: Callable, path: str, limit: int):
        self.app, self.path, self.limit = app, "/" + path.strip("/"), limit

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and (environ.get("PATH_INFO") or "").startswith(self.path):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length > self.limit or length < 0:
                body = b"payload too large" if length > 0 else b"bad content length"
                start_response("413 Request Entity Too Large" if length > 0 else "400 Bad Request",
                               [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                                ("Connection", "close")])
                return [body]
        return self.app(environ, start_response)


def init_app(app, socketio, namespaces: list[str]) -> AttachmentGuard:
    """Call after the namespaces are registered: accept only `namespaces`, bound attachments and polling bodies."""
    server = socketio.server
    server.namespaces = list(namespaces)     # nothing but these; `/` is not served
    guard = AttachmentGuard(server, app.config["MAX_SOCKET_ATTACHMENTS"], app.config["MAX_SOCKET_ATTACHMENT_BYTES"])
    app.wsgi_app = PollingBodyLimit(app.wsgi_app, getattr(app.wsgi_app, "engineio_path", "socket.io"),
                                    server.eio.max_http_buffer_size)
    app.extensions["kws.socket_limits"] = guard
    return guard
