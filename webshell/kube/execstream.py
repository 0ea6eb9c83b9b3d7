"""One exec websocket to a container: open, read frames, write stdin, resize, close.

websocket-client makes the handshake, so that the v5 protocol (which can close stdin)
is preferred and extra headers (impersonation) are sent, over a TLS connection of `tls`
(records read in bulk); frames are then read and written with `wire`, which is several
times faster on bulk data than the library.
"""
from __future__ import annotations

import _socket
import functools
import logging
import os
import socket
import ssl
import threading
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlparse, urlunparse

import certifi
import websocket
from kubernetes import client

from .. import metrics
from . import frames, tls, wire
from .apierrors import from_status
from .calls import not_answering

if TYPE_CHECKING:
    from .conn import Conn

log = logging.getLogger(__name__)

_PEEK = int(socket.MSG_PEEK | socket.MSG_DONTWAIT)


class ExecStream:
    """A live exec; `read()` is for one reader, `write`/`resize`/`close` for anyone."""

    def __init__(self, ws: websocket.WebSocket):
        self._ws = ws
        self.timed_out = False        # read() ended because nothing came within settimeout()
        self.protocol = ws.getsubprotocol() or frames.V4
        self._closed = False
        self._reading = False
        self._lock = threading.Lock()
        self._sock = ws.sock
        # A plain duplicate of the descriptor, to ask the kernel whether data is waiting.
        self._peek = _socket.socket(fileno=os.dup(self._sock.fileno()))
        # The reader answers pings itself; it gets the socket, not this object (no reference cycle).
        self._reader = wire.FrameReader(self._sock.recv, functools.partial(_sendall, ws.lock, self._sock))

    @classmethod
    @metrics.EXEC_CONNECT.time()
    def open(cls, conn: "Conn", argv: list[str], *, tty: bool, stdin: bool = True,
             stderr: bool = True) -> "ExecStream":
        """Start `argv` in `conn`'s container; raises webshell errors when the server refuses.

        `conn` carries where (the target), the API client, the connect timeout and the extra
        headers (impersonation or the user's token); `stdin`/`stderr` are the channels wanted.
        The user reads the cluster's name when it does not answer; its address goes to the log.
        """
        namespace, pod, container = conn.target.namespace, conn.target.pod, conn.target.container
        cfg = conn.api.configuration
        query = [("command", a) for a in argv] + [
            ("container", container), ("stdin", _b(stdin)), ("stdout", "true"),
            ("stderr", _b(stderr and not tty)), ("tty", _b(tty))]
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/exec"
        url = _ws_url(cfg.host, path, query)
        hdrs = [f"{k}: {v}" for k, v in _auth_headers(cfg).items()]
        hdrs += [f"{k}: {v}" for k, v in (conn.headers or {}).items()]
        ws = websocket.WebSocket(sslopt=_sslopt(cfg), skip_utf8_validation=True, enable_multithread=True)
        sock = None
        try:
            sock = _tls_connection(url, cfg, conn.timeout)
            ws.connect(url, header=hdrs, subprotocols=[frames.V5, frames.V4], timeout=conn.timeout, socket=sock)
        except websocket.WebSocketBadStatusException as e:
            _close(sock)
            raise from_status(e.status_code, e.resp_body, f"exec into pod '{pod}'",
                              f"pod '{pod}' not found in namespace '{namespace}'") from None
        except (OSError, websocket.WebSocketException) as e:
            _close(sock)
            log.warning("exec into pod %s/%s at %s failed: %s", namespace, pod, cfg.host, e)   # not for users
            raise not_answering(conn.target.cluster, f"exec into pod '{pod}'") from None
        ws.settimeout(None)
        return cls(ws)

    def read(self) -> tuple[int, bytes] | None:
        """The next (channel, payload); None once the stream is closed."""
        ready = self.read_ready(0)
        return ready[0] if ready else None

    def read_ready(self, limit: int) -> list[tuple[int, bytes]] | None:
        """The next (channel, payload), then every frame already buffered, up to about `limit` bytes.

        Never empty; None once the stream is closed. A flood's frames come many per call.
        No lock per call (a green lock cost a seventh of a flood's reading): `close()` sets
        `_closed` before it looks at `_reading`, and this sets `_reading` before it looks at
        `_closed` again, so either close() leaves the socket to this reader, or this reader
        sees the close and touches nothing. Releasing twice is harmless.
        """
        if self._closed:
            return None
        self._reading = True
        try:
            if self._closed:
                return None
            while True:
                try:
                    messages = self._reader.messages(limit)
                except (OSError, ValueError, wire.ProtocolError) as e:
                    self.timed_out = isinstance(e, TimeoutError)
                    if not self._closed:
                        log.debug("exec stream ended: %s", e)
                    return None
                if messages is None:
                    return None
                ready = [frames.decode(m) for _, m in messages if m]    # an empty message has no channel
                if ready:
                    return ready
        finally:
            self._reading = False
            if self._closed:            # close() came while we read: the socket is ours to release
                self._release()

    def read_into(self, out: frames.ExecOutput) -> bool:
        """Read one frame into `out`; False once the exec has ended (its status is then set)."""
        if out.done:
            return False
        frame = self.read()
        if frame is None:
            out.lost()
            return False
        out.feed(*frame)
        return True

    def settimeout(self, seconds: float | None) -> None:
        """Let `read()` give up (and report the end of the stream) after `seconds` without data."""
        self._sock.settimeout(seconds)

    def readable_now(self) -> bool:
        """True when another frame can be read without waiting for the network (for batching).

        Asks the kernel directly (a non-blocking MSG_PEEK on the descriptor): a green
        `select` would register, switch to the hub and unregister on every frame.
        """
        if self._reader.has_frame():
            return True
        sock = self._sock
        if self._closed:
            return False
        pending = getattr(sock, "pending", None)
        if pending is not None and pending():
            return True
        try:
            self._peek.recv(1, _PEEK)          # data, or b"" at end of stream: read() will not wait
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True                         # the error is for read() to report

    def limit_receive_buffer(self, nbytes: int) -> None:
        """Cap the kernel's receive buffer of this connection (SO_RCVBUF; ends its autotuning).

        What waits there is output the client will see late: the terminal keeps it to about
        a second of what the client drains (docs/PROTOCOL.md, flow control).
        """
        try:
            self._peek.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, nbytes)
        except OSError as e:
            log.debug("SO_RCVBUF not set: %s", e)

    def _sendall(self, frame: bytes) -> None:
        _sendall(self._ws.lock, self._sock, frame)

    def _send(self, message: bytes) -> bool:
        if self._closed:
            return False
        try:
            self._sendall(wire.client_frame(wire.BINARY, message))
            return True
        except (OSError, ValueError):
            return False

    def write(self, data: bytes) -> bool:
        return self._send(frames.encode(frames.STDIN, data))

    def resize(self, cols: int, rows: int) -> bool:
        return self._send(frames.resize(cols, rows))

    def close_stdin(self) -> bool:
        """Signal stdin EOF where the protocol can (v5); False where it cannot."""
        return self.protocol == frames.V5 and self._send(frames.close(frames.STDIN))

    def close(self) -> None:
        """Close the websocket; idempotent. The server then ends the exec.

        A reader blocked in `read()` is woken by the socket's shutdown and releases the
        socket itself: closing it under the reader would leave it waiting forever (eventlet
        forgets a descriptor that is closed before its hub saw the shutdown).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        try:
            self._sendall(wire.client_frame(wire.CLOSE, b"\x03\xe8"))   # 1000: normal closure
        except (OSError, ValueError):
            pass
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass
        if not reading:
            self._release()

    def _release(self) -> None:
        self._ws.shutdown()
        self._peek.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _sendall(lock, sock, frame: bytes) -> None:
    """Frames from several writers (input, resize, pongs, close) never interleave."""
    with lock:
        sock.sendall(frame)


def _tls_connection(url: str, cfg: client.Configuration, timeout: float) -> tls.TLSConnection | None:
    """TLS read in bulk (kube/tls.py) for a wss URL; None where websocket-client connects itself
    (plain ws, or a proxy from the environment, which it tunnels through)."""
    parts = urlparse(url)
    if parts.scheme != "wss" or (urllib.request.getproxies().get("https") and
                                 not urllib.request.proxy_bypass(parts.hostname or "")):
        return None
    opts = _sslopt(cfg)
    return tls.TLSConnection.connect((parts.hostname, parts.port or 443), tls.context_for(opts),
                                     opts.get("server_hostname") or parts.hostname, timeout,
                                     websocket.DEFAULT_SOCKET_OPTION)


def _close(sock) -> None:
    if sock is not None:
        sock.close()


def _b(v: bool) -> str:
    return "true" if v else "false"


def _ws_url(host: str, path: str, query: list[tuple[str, str]]) -> str:
    parts = list(urlparse(host.rstrip("/") + path))
    parts[0] = {"http": "ws", "https": "wss"}.get(parts[0], parts[0])
    parts[4] = urlencode(query)
    return urlunparse(parts)


def _auth_headers(cfg: client.Configuration) -> dict[str, str]:
    headers = {}
    for setting in cfg.auth_settings().values():
        if setting.get("in") == "header" and setting.get("value"):
            headers[setting["key"]] = setting["value"]
    return headers


def _sslopt(cfg: client.Configuration) -> dict:
    if cfg.verify_ssl:
        opts = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": cfg.ssl_ca_cert or certifi.where()}
        if cfg.assert_hostname is not None:
            opts["check_hostname"] = cfg.assert_hostname
    else:
        opts = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
    if cfg.cert_file:
        opts["certfile"] = cfg.cert_file
    if cfg.key_file:
        opts["keyfile"] = cfg.key_file
    if getattr(cfg, "tls_server_name", None):
        opts["server_hostname"] = cfg.tls_server_name
    return opts
