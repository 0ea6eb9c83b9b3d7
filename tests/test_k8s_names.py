"""Kubernetes name rules where names enter (REST, Socket.IO), and quoted segments in the exec path."""
from __future__ import annotations

import socket
import threading

import pytest
from kubernetes import client

from webshell import names
from webshell.errors import BadRequest, WebshellError
from webshell.kube.conn import Conn, Target
from webshell.kube.execstream import ExecStream

BAD = [".", "..", "Web-1", "-a", "a-", "a b", "a%2Fb", "x" * 64, "a\nb", "", "ä"]
API = "/api/clusters/kws-local/namespaces"


@pytest.mark.parametrize("value", BAD)
def test_namespace_and_container_names_follow_the_label_rule(value):
    with pytest.raises(BadRequest):
        names.namespace(value)
    with pytest.raises(BadRequest):
        names.container(value)


@pytest.mark.parametrize("value", ["a..b", ".a", "a.", "..", ".", "A.b", "x" * 254])
def test_pod_names_follow_the_subdomain_rule(value):
    with pytest.raises(BadRequest):
        names.pod(value)


def test_good_names_pass():
    assert names.namespace("team-a") == "team-a" and names.container("c1") == "c1"
    assert names.pod("web-1.v2") == "web-1.v2" and names.pod("x" * 253)
    assert names.cluster("arn:aws:eks:eu-west-1:1:cluster@prod") and names.cluster("kws-local")
    for bad in (".", "..", "", "a/b", "a\nb"):
        with pytest.raises(BadRequest):
            names.cluster(bad)


def _bad_request(r) -> bool:
    return r.status_code == 400 and r.headers["Content-Type"].startswith("application/json") \
        and r.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("dots", ["%2E", "%2E%2E", "Demo"])
def test_rest_routes_refuse_dot_segments_and_bad_names(server, admin, dots):
    assert _bad_request(admin.get(f"{server.url}{API}/{dots}/pods"))
    for route in ("list", "download"):
        assert _bad_request(admin.get(f"{server.url}{API}/demo/pods/{dots}/files/{route}", params={"path": "/"}))
        assert _bad_request(admin.get(f"{server.url}{API}/{dots}/pods/web-1/files/{route}", params={"path": "/"}))
    assert _bad_request(admin.get(f"{server.url}{API}/demo/pods/web-1/files/list",
                                  params={"path": "/", "container": ".."}))
    # The logs pane's route: pod `.` in demo would read the pod named `log` once the dots resolve.
    assert _bad_request(admin.get(f"{server.url}{API}/demo/pods/{dots}/logs"))
    assert _bad_request(admin.get(f"{server.url}{API}/{dots}/pods/web-1/logs"))
    assert _bad_request(admin.get(f"{server.url}{API}/demo/pods/web-1/logs", params={"container": ".."}))


def test_socket_open_refuses_dot_segments(term):
    for where in ({"namespace": ".."}, {"namespace": "."}, {"pod": ".."}, {"container": "../web"},
                  {"namespace": "Demo"}):
        ack = term.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1",
                                 "cols": 80, "rows": 24, **where})
        assert not ack["ok"] and ack["error"]["code"] == "bad_request", (where, ack)


def test_the_exec_path_quotes_every_segment():
    """ExecStream.open against a listener that records the request line (then refuses it)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    seen: list[bytes] = []

    def serve():
        conn, _ = lsock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            seen.append(data.split(b"\r\n", 1)[0])
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{lsock.getsockname()[1]}"
    try:
        with pytest.raises(WebshellError):
            ExecStream.open(Conn(client.ApiClient(cfg), Target("c1", "a b?x", "p#1/..", "c"), 5), ["true"], tty=False)
    finally:
        t.join(5)
        lsock.close()
    assert seen and seen[0].startswith(b"GET /api/v1/namespaces/a%20b%3Fx/pods/p%231%2F../exec?"), seen
