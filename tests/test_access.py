"""Access rules through the real server: listings, terminal open/attach and transfers, allowed and denied."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests
import socketio

from .helpers import ROOT, ConsoleServer, Term, csrf_token, login

PW = "correct-horse-battery"
API = "/api/clusters/kws-local/namespaces"


def cli(server: ConsoleServer, *args: str, stdin: str | None = None) -> str:
    """Run `flask --app webshell <args>` against the server's database; its standard output."""
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "webshell", *args], cwd=ROOT, env=server.env,
                       input=stdin, text=True, capture_output=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def add_user(server: ConsoleServer, name: str, *rules: list[str], role: str | None = None) -> None:
    cli(server, "create-user", name, "--password-stdin", *(["--role", role] if role else []), stdin=PW + "\n")
    for rule in rules:
        cli(server, "add-rule", "--user", name, *rule)


def admin_events(server: ConsoleServer, token: str | None = None, **filters) -> list[dict]:
    """Audit events through the admin API (as the logged-in admin, or with an admin's API token)."""
    if token:
        r = requests.get(f"{server.url}/api/admin/audit", params=filters, headers={"Authorization": f"Bearer {token}"})
    else:
        r = login(server).get(f"{server.url}/api/admin/audit", params=filters)
    assert r.status_code == 200, r.text
    return r.json()["events"]


class SocketClient(Term):
    """A /terminal client that authenticates with a token (auth payload or header) or nothing at all."""

    def __init__(self, server: ConsoleServer, token: str | None = None, headers: dict | None = None,
                 cookies: requests.Session | None = None):
        self.sio = socketio.Client(reconnection=False)
        self.out, self.exits, self.cond, self.ack_output = {}, {}, threading.Condition(), True
        self.disconnected = threading.Event()
        hdrs = dict(headers or {})
        if cookies is not None:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.cookies.items())
        self.sio.on("output", self._output, namespace="/terminal")
        self.sio.on("exit", self._exit, namespace="/terminal")
        self.sio.on("disconnect", lambda *a: self.disconnected.set(), namespace="/terminal")
        self.sio.connect(server.url, namespaces=["/terminal"], headers=hdrs, transports=["websocket"],
                         auth={"token": token} if token else None, wait_timeout=10)


def shell_pid(t: Term, session: str) -> int:
    t.send(session, "echo pid=$$\n")
    return int(t.wait_for(session, r"pid=(\d+)").group(1))


@pytest.fixture
def srv(make_server, database_url):
    return make_server(database_url=database_url)


def test_rules_decide_listings_and_terminals(srv):
    add_user(srv, "alice", ["--namespaces", "team-a", "--exec"], role="devs")
    cli(srv, "add-rule", "--role", "devs", "--namespaces", "demo")          # see demo, no exec
    add_user(srv, "bob")                                                      # no rules: nothing
    alice, bob = login(srv, "alice", PW), login(srv, "bob", PW)

    assert alice.get(f"{srv.url}/api/clusters").json() == {"clusters": ["kws-local"]}
    assert set(alice.get(f"{srv.url}{API}").json()["namespaces"]) == {"demo", "team-a"}
    assert "shell-a" in {p["name"] for p in alice.get(f"{srv.url}{API}/team-a/pods").json()["pods"]}
    assert "web-1" in {p["name"] for p in alice.get(f"{srv.url}{API}/demo/pods").json()["pods"]}
    denied = alice.get(f"{srv.url}{API}/team-b/pods")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert bob.get(f"{srv.url}/api/clusters").json() == {"clusters": []}
    assert bob.get(f"{srv.url}{API}").status_code == 403
    assert bob.get(f"{srv.url}{API}/demo/pods").status_code == 403

    t = Term(srv, alice)
    try:
        session = t.open("shell-a", "team-a")
        t.send(session, "echo ok-$((6*7))\n")
        t.wait_for(session, "ok-42")
        for ns, pod in (("demo", "web-1"), ("team-b", "shell-b")):
            ack = t.call("open", {"cluster": "kws-local", "namespace": ns, "pod": pod, "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        # Attach from another tab: allowed while the rule stands...
        t2 = Term(srv, alice)
        ack = t2.call("attach", {"session": session})
        assert ack["ok"] and b"ok-42" in bytes(ack["replay"]), ack
        t2.close()
        # ...and refused once the rule is gone.
        rule_id = next(line.split()[0].lstrip("#") for line in cli(srv, "list-rules").splitlines()
                       if "user alice" in line)
        cli(srv, "delete-rule", rule_id)
        t3 = Term(srv, alice)
        ack = t3.call("attach", {"session": session})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        t3.close()
    finally:
        t.close()
    tb = Term(srv, bob)
    ack = tb.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24})
    tb.close()
    assert not ack["ok"] and ack["error"]["code"] == "forbidden"

    denials = admin_events(srv, event="access.denied")
    assert {(e["user"], e["namespace"]) for e in denials} >= {("alice", "team-b"), ("alice", "demo"),
                                                               ("bob", "demo")}
    opened = [e for e in admin_events(srv, event="terminal.open", user="alice") if e["event"] == "terminal.open"]
    assert opened and opened[0]["namespace"] == "team-a" and opened[0]["pod"] == "shell-a"


def test_rules_decide_terminals_and_transfers_on_both_nodes(make_server, target):
    srv = make_server()
    add_user(srv, "dora", ["--namespaces", target.namespace, "--exec"])   # exec, but no file rights
    dora = login(srv, "dora", PW)
    t = Term(srv, dora)
    try:
        s = t.open(**target.where)
        t.send(s, "echo dora-$((6*7))\n")
        t.wait_for(s, "dora-42")
        ack = t.call("open", {"cluster": "kws-local", "namespace": "team-b", "pod": "shell-b", "cols": 80, "rows": 24})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
    finally:
        t.close()
    token = csrf_token(dora, srv)
    assert _upload(dora, srv, target.namespace, target.pod, "dora.txt", b"no", token).status_code == 403
    assert _download(dora, srv, target.namespace, target.pod, "/etc/hostname").status_code == 403
    assert {e["event"] for e in admin_events(srv, user="dora")} >= {"terminal.open", "access.denied"}


def _upload(http: requests.Session, srv: ConsoleServer, ns: str, pod: str, path: str, body: bytes,
            csrf: str | None):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return http.put(f"{srv.url}{API}/{ns}/pods/{pod}/files/upload", params={"path": path}, data=body,
                    headers=headers, timeout=60)


def _download(http: requests.Session, srv: ConsoleServer, ns: str, pod: str, path: str):
    return http.get(f"{srv.url}{API}/{ns}/pods/{pod}/files/download", params={"path": path}, timeout=60)


def test_rules_decide_uploads_and_downloads(make_server):
    srv = make_server()
    add_user(srv, "carol", ["--namespaces", "team-a", "--upload"], ["--namespaces", "demo", "--download"])
    admin = login(srv)
    body = b"from the admin\n" * 100
    assert _upload(admin, srv, "demo", "web-2", "acl-demo.txt", body, csrf_token(admin, srv)).status_code == 200

    carol = login(srv, "carol", PW)
    token = csrf_token(carol, srv)
    ok = _upload(carol, srv, "team-a", "shell-a", "acl-up.txt", b"carol was here\n", token)
    assert ok.status_code == 200, ok.text
    no_csrf = _upload(carol, srv, "team-a", "shell-a", "acl-up2.txt", b"x", None)
    assert no_csrf.status_code == 400 and no_csrf.json()["error"]["code"] == "csrf"
    denied_up = _upload(carol, srv, "demo", "web-2", "acl-up.txt", b"nope", token)
    assert denied_up.status_code == 403
    got = _download(carol, srv, "demo", "web-2", "acl-demo.txt")
    assert got.status_code == 200 and got.content == body
    assert _download(carol, srv, "team-a", "shell-a", "acl-up.txt").status_code == 403
    assert _download(carol, srv, "team-b", "shell-b", "anything").status_code == 403

    events = admin_events(srv, user="carol")
    kinds = [e["event"] for e in events]
    assert "file.upload" in kinds and "access.denied" in kinds
    up = next(e for e in events if e["event"] == "file.upload")
    assert up["detail"]["size"] == len(b"carol was here\n") and len(up["detail"]["sha256"]) == 64


def test_foreign_origin_and_unauthenticated_sockets_are_refused(server, admin):
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketClient(server)                                              # no credentials at all
    # Engine.IO's handshake (one Origin header exactly, as a browser sends it): foreign refused, own allowed.
    handshake = f"{server.url}/socket.io/?EIO=4&transport=polling"
    assert admin.get(handshake, headers={"Origin": "http://evil.example"}).status_code == 400
    assert admin.get(handshake, headers={"Origin": server.url}).status_code == 200
    ok = SocketClient(server, cookies=admin)     # websocket-client sends the server's own origin
    assert ok.call("list", {})["ok"]
    ok.close()
    r = admin.post(f"{server.url}/api/tokens", json={"name": "x"}, headers={
        "Origin": "http://evil.example", "X-CSRFToken": csrf_token(admin, server)})
    assert r.status_code == 403
    assert admin.post(f"{server.url}/api/tokens", json={"name": "x"}).status_code == 400   # no CSRF token
