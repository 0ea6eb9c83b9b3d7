"""Every place where the console touches a library's private parts, in one module.

Each function here has a test in tests/unit/test_internals.py that fails loudly when an
upgrade of Flask-Login, Flask-WTF, Flask-SocketIO or the WSGI server changes what it relies on.
"""
from __future__ import annotations

import logging
import socket

from flask import Flask, g

log = logging.getLogger(__name__)


def set_login_user(user) -> None:
    """Make `user` Flask-Login's user for this request or event (its per-request cache, `g._login_user`)."""
    g._login_user = user


def csrf_exempt(csrf, app: Flask, endpoint: str | None, blueprint: str | None) -> bool:
    """Did the view (or its blueprint) opt out of Flask-WTF's CSRF check (`csrf.exempt`)?"""
    view = app.view_functions.get(endpoint or "")
    if view is None:
        return False
    bp = app.blueprints.get(blueprint or "")
    return (f"{view.__module__}.{view.__name__}" in getattr(csrf, "_exempt_views", set())
            or bp in getattr(csrf, "_exempt_blueprints", set()))


def is_socketio_followup(environ: dict) -> bool:
    """Has Flask-SocketIO already saved this connection's session (every event after the first)?"""
    return "saved_session" in environ


def client_socket(environ: dict):
    """The client's TCP socket behind a WSGI environ, for eventlet, werkzeug, gunicorn and gevent."""
    if "eventlet.input" in environ:
        return environ["eventlet.input"].get_socket()
    if "werkzeug.socket" in environ:
        return environ["werkzeug.socket"]
    if "gunicorn.socket" in environ:
        return environ["gunicorn.socket"]
    rfile = environ.get("wsgi.input")     # gevent's pywsgi: the input is the connection's buffered reader
    rfile = getattr(rfile, "rfile", rfile)
    return getattr(getattr(rfile, "raw", None), "_sock", None)


def no_delay(environ: dict) -> None:
    """Send small frames at once on this client's connection (TCP_NODELAY).

    An output event is two websocket frames (the event, then its binary attachment); with
    Nagle's algorithm on, the second waits for the client's delayed ACK: ~40 ms per keystroke echo.
    """
    try:
        sock = client_socket(environ)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError) as e:
        log.debug("TCP_NODELAY not set: %s", e)


class NoDelay:
    """WSGI middleware: every websocket upgrade's connection gets TCP_NODELAY before Socket.IO sees it.

    Outermost (after Flask-SocketIO wrapped the app), so that it tunes the socket the
    terminal's frames actually travel on, also when a client began with long-polling.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            no_delay(environ)
        return self.app(environ, start_response)


def websocket_unmask(data, mask, length=None, offset=0) -> bytes:
    """`data[:length]` XORed with the 4-byte websocket `mask`, starting `offset` bytes into it.

    What eventlet's `RFC6455WebSocket._apply_mask` computes, one integer XOR instead of a
    Python generator step and a bytes object per byte.
    """
    if length is None:
        length = len(data)
    if length <= 0:
        return b""
    k = offset % 4
    key = bytes(mask[k:]) + bytes(mask[:k])
    pad = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(data[:length], "little") ^ int.from_bytes(pad, "little")).to_bytes(length, "little")


def fast_eventlet_websocket_unmask() -> bool:
    """Unmask client websocket frames in one step under eventlet (its `_apply_mask` is a static method).

    Every frame a client sends is masked (RFC 6455); eventlet 0.41 unmasks it byte by byte,
    which was the largest single cost of an `input` event after Flask's request context.
    python-engineio serves websockets through eventlet.websocket in eventlet mode and has no
    option to choose another implementation. Returns whether eventlet was there to tune.
    """
    try:
        from eventlet.websocket import RFC6455WebSocket
    except ImportError:
        return False
    RFC6455WebSocket._apply_mask = staticmethod(websocket_unmask)
    return True
