"""Before authentication: namespaces, Socket.IO attachments, Engine.IO polling bodies, HTTP bodies.

The first tests pin the python-socketio / python-engineio internals webshell/socketlimits.py
relies on: an upgrade that moves them fails here, loudly, instead of silently unbounding the server.
"""
from __future__ import annotations

import json
import socket
import time

import engineio
import pytest
import socketio
import websocket

from .helpers import csrf_token, login


# -- the library internals socketlimits.py touches ------------------------------------------
def test_socketio_internals_socketlimits_relies_on():
    server = socketio.Server(async_mode="threading")
    assert isinstance(server._binary_packet, dict)                       # pending binary packets per eio sid
    assert server.eio.handlers["message"] == server._handle_eio_message  # what AttachmentGuard wraps
    assert server.eio.handlers["disconnect"] == server._handle_eio_disconnect
    assert server.namespaces == ["/"]          # the default that accepts `/` with no handler at all
    pkt = socketio.packet.Packet(encoded_packet='59999999999-/terminal,["input",{"_placeholder":true,"num":0}]')
    assert pkt.attachment_count == 9999999999  # the library itself still allows this many


def test_engineio_internals_socketlimits_relies_on():
    import inspect

    from engineio import socket as eio_socket
    assert "max_http_buffer_size" in inspect.getsource(eio_socket.Socket.handle_post_request)
    assert {"wait", "abort"} <= set(inspect.signature(eio_socket.Socket.close).parameters)
    assert hasattr(engineio.WSGIApp(None), "engineio_path")


def test_socketlimits_wraps_a_real_server():
    from flask import Flask
    from flask_socketio import SocketIO

    from webshell import socketlimits
    app = Flask(__name__)
    app.config.update(MAX_SOCKET_ATTACHMENTS=2, MAX_SOCKET_ATTACHMENT_BYTES=10)
    sio = SocketIO(app, async_mode="threading")
    guard = socketlimits.init_app(app, sio, ["/terminal"])
    assert sio.server.namespaces == ["/terminal"]
    assert sio.server.eio.handlers["message"] == guard.message
    assert isinstance(app.wsgi_app, socketlimits.PollingBodyLimit) and app.wsgi_app.path == "/socket.io"


# -- against the real server ---------------------------------------------------------------
def _cookie(http) -> str:
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


@pytest.mark.parametrize("ns", ["/", "/other"])
def test_no_namespace_but_terminal_accepts_a_connection(server, admin, ns):
    for headers in ({}, {"Cookie": _cookie(admin)}):     # anonymous, and even logged in: nothing is served there
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, namespaces=[ns], headers=headers, transports=["websocket"], wait_timeout=5)
        client.disconnect()


def _raw_terminal_socket(server, http) -> websocket.WebSocket:
    """A websocket speaking Engine.IO/Socket.IO by hand, connected to /terminal with the cookie."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
                                     header=[f"Cookie: {_cookie(http)}"], origin=server.url, timeout=10)
    assert ws.recv().startswith("0{")
    ws.send("40/terminal,")
    assert ws.recv().startswith("40/terminal,{")
    return ws


def _closed_within(ws: websocket.WebSocket, seconds: float) -> bool:
    ws.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            msg = ws.recv()
            if msg in ("", b""):
                return True
            if msg == "2":
                ws.send("3")
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False
    return False


def _cut_after(ws: websocket.WebSocket, packet: str, part: int) -> bool:
    """Send a binary packet's header, then up to 3 attachments of `part` bytes: is the socket cut?"""
    try:
        ws.send(packet)
        for _ in range(3):
            try:
                ws.send_binary(b"\0" * part)
            except (websocket.WebSocketConnectionClosedException, OSError):
                break
        return _closed_within(ws, 5)
    finally:
        ws.shutdown()     # close() leaves the socket open once the server has closed it


def test_a_packet_declaring_too_many_attachments_is_cut_at_once(server, admin):
    before = server.log().count("declared 9999999999 attachments")
    packet = '459999999999-/terminal,1["input",{"session":"x","data":{"_placeholder":true,"num":0}}]'
    assert _cut_after(_raw_terminal_socket(server, admin), packet, 1024), "the server kept buffering attachments"
    assert server.log().count("declared 9999999999 attachments") == before + 1


def test_an_anonymous_client_that_joined_no_namespace_cannot_make_the_server_buffer_attachments(server):
    """The battery's case: no cookie, no namespace joined, a binary event for `/` declaring 9 999 999 999 parts."""
    before = server.log().count("declared 9999999999 attachments")
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
                                     origin=server.url, timeout=10)
    assert ws.recv().startswith("0{")
    assert _cut_after(ws, '459999999999-["x",{"_placeholder":true,"num":0}]', 1024), \
        "the server kept buffering an anonymous client's attachments"
    assert server.log().count("declared 9999999999 attachments") == before + 1


def test_attachments_adding_up_past_the_limit_are_cut(server, admin):
    before = server.log().count("attachments larger than 131072 bytes")
    packet = ('454-/terminal,1["input",{"session":"x","data":[{"_placeholder":true,"num":0},'
              '{"_placeholder":true,"num":1},{"_placeholder":true,"num":2},{"_placeholder":true,"num":3}]}]')
    # 3 x 100 KiB > 2 x KWS_MAX_INPUT_BYTES (128 KiB)
    assert _cut_after(_raw_terminal_socket(server, admin), packet, 100 * 1024), "the server kept buffering attachments"
    assert server.log().count("attachments larger than 131072 bytes") == before + 1


def test_a_normal_binary_input_still_works(term):
    s = term.open()
    ack = term.call("input", {"session": s, "data": b"echo bin-$((6*7))\r"})
    assert ack["ok"], ack
    term.wait_for(s, "bin-42")


def _raw_request(server, head: str, body_sent: bytes = b"", timeout: float = 5) -> bytes:
    """Send a request head (and the start of its body); the status line the server answers with."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(head.encode("latin-1") + body_sent)
        try:
            data = s.recv(4096)
        except socket.timeout:
            return b""
        return data.split(b"\r\n", 1)[0]


def test_an_oversized_polling_post_is_answered_at_once(server):
    eio = server.url + "/socket.io/?EIO=4&transport=polling"
    import requests
    hs = requests.get(eio, timeout=5)
    sid = json.loads(hs.text[1:])["sid"]
    size = 4 * 65536 + 1       # one byte more than max_http_buffer_size (4 x KWS_MAX_INPUT_BYTES)
    head = (f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {size}\r\n\r\n")
    t0 = time.monotonic()
    status = _raw_request(server, head, b"4" + b"x" * 1000)
    assert status.split(b" ")[1:2] == [b"413"], status
    assert time.monotonic() - t0 < 3


def test_prelogin_bodies_are_refused_before_they_are_read(server):
    big = 100 * 1024 ** 2
    head = ("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {big}\r\n\r\n")
    assert _raw_request(server, head, b"--b\r\n").split(b" ")[1:2] == [b"413"]
    files = "/api/clusters/kws-local/namespaces/demo/pods/web-1/files/upload?path=/tmp/x"
    for method in ("PUT", "POST"):      # anonymous uploads: refused before the body, whatever its type
        head = (f"{method} {files} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {big}\r\n\r\n")
        assert _raw_request(server, head, b"--b\r\n").split(b" ")[1:2] == [b"401"], method


def test_uploads_check_csrf_from_the_header_before_the_body(server):
    http = login(server)
    files = "/api/clusters/kws-local/namespaces/demo/pods/web-1/files/upload?path=/tmp/x"
    for method in ("PUT", "POST"):      # logged in, no CSRF header: 400 without reading 100 MiB of form
        head = (f"{method} {files} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {_cookie(http)}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {100 * 1024 ** 2}\r\n\r\n")
        assert _raw_request(server, head, b"--b\r\n").split(b" ")[1:2] == [b"400"], method
    # Small bodies elsewhere are still fine: a JSON request well under KWS_MAX_BODY_BYTES.
    r = http.post(f"{server.url}/api/tokens", json={"name": "x" * 100}, headers={"X-CSRFToken": csrf_token(http, server)})
    assert r.status_code == 201, r.text
