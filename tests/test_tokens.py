"""API tokens: REST and Socket.IO clients, shown once, stored hashed, expiry, revocation cuts live shells."""
from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
import requests
import socketio
import sqlalchemy as sa

from .helpers import csrf_token, login, wait_dead
from .test_access import API, PW, SocketClient, add_user, cli, shell_pid


@pytest.fixture
def srv(make_server, database_url):
    return make_server(database_url=database_url)


def _token(srv, user: str, *args: str) -> str:
    return cli(srv, "create-token", user, *args).strip()


def _rows(srv, database_url: str) -> list[dict]:
    url = database_url or f"sqlite:///{srv.instance / 'webshell.db'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text("select * from api_tokens"))]
    finally:
        engine.dispose()


def test_token_authenticates_rest_and_sockets_and_is_stored_hashed(srv, database_url):
    add_user(srv, "dash", ["--namespaces", "team-a", "--exec", "--upload"])
    secret = _token(srv, "dash", "--name", "grafana")
    assert secret.startswith("kws_") and len(secret) > 40
    rows = _rows(srv, database_url)
    assert len(rows) == 1 and rows[0]["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(v) for v in rows[0].values())
    assert secret not in cli(srv, "list-tokens")

    bearer = {"Authorization": f"Bearer {secret}"}
    r = requests.get(f"{srv.url}{API}/team-a/pods", headers=bearer)
    assert r.status_code == 200 and "shell-a" in {p["name"] for p in r.json()["pods"]}
    assert requests.get(f"{srv.url}{API}/team-b/pods", headers=bearer).status_code == 403
    # Never in a URL: a token in the query string authenticates nothing.
    assert requests.get(f"{srv.url}{API}/team-a/pods", params={"token": secret}).status_code == 401
    assert requests.get(f"{srv.url}{API}/team-a/pods", params={"token": secret}, headers=bearer).status_code == 401
    assert requests.get(f"{srv.url}{API}/team-a/pods", headers={"Authorization": "Bearer kws_wrong"}).status_code == 401
    # A state-changing call with a bearer token needs no CSRF token (it carries no cookie).
    up = requests.put(f"{srv.url}{API}/team-a/pods/shell-a/files/upload", params={"path": "by-token.txt"},
                      data=b"token upload\n", headers=bearer, timeout=60)
    assert up.status_code == 200, up.text
    # A token cannot mint more tokens.
    assert requests.post(f"{srv.url}/api/tokens", json={"name": "more"}, headers=bearer).status_code == 403

    for client in (SocketClient(srv, token=secret), SocketClient(srv, headers=bearer)):
        session = client.open("shell-a", "team-a")
        client.send(session, "echo tok-$((6*7))\n")
        client.wait_for(session, "tok-42")
        ack = client.call("open", {"cluster": "kws-local", "namespace": "team-b", "pod": "shell-b",
                                   "cols": 80, "rows": 24})
        assert ack["error"]["code"] == "forbidden"
        client.close()
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketClient(srv, token="kws_not-a-token")


def test_revoking_a_token_cuts_its_live_session(srv):
    add_user(srv, "robot", ["--namespaces", "team-a", "--exec"])
    secret = _token(srv, "robot")
    t = SocketClient(srv, token=secret)
    session = t.open("shell-a", "team-a")
    pid = shell_pid(t, session)
    token_id = cli(srv, "list-tokens", "robot").split()[0].lstrip("#")
    cli(srv, "revoke-token", token_id)
    # From the moment the revocation is in the database (the CLI has exited; starting the CLI
    # itself can take many seconds on a loaded machine, and is not what this bounds).
    started = time.monotonic()
    assert t.disconnected.wait(15), "the token's socket stayed connected"
    assert wait_dead(pid), "the shell outlived its revoked token"
    assert time.monotonic() - started < 15
    with pytest.raises(socketio.exceptions.ConnectionError):
        SocketClient(srv, token=secret)
    assert requests.get(f"{srv.url}/api/clusters", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_disabling_a_user_cuts_their_live_session(srv):
    add_user(srv, "eve", ["--namespaces", "team-a", "--exec"])
    eve = login(srv, "eve", PW)
    t = SocketClient(srv, cookies=eve)
    session = t.open("shell-a", "team-a")
    pid = shell_pid(t, session)
    cli(srv, "disable-user", "eve")
    assert t.disconnected.wait(15), "the disabled user's socket stayed connected"
    assert wait_dead(pid), "the disabled user's shell is still running"
    assert eve.get(f"{srv.url}/api/clusters").status_code == 401
    r = requests.post(f"{srv.url}/login", data={"username": "eve", "password": PW})
    assert r.status_code in (400, 401)


def test_token_expiry_and_the_tokens_page(make_server):
    srv = make_server(auth_recheck=0.5)
    add_user(srv, "temp", ["--namespaces", "team-a"])
    # An hour's token whose expiry is then moved to a moment ago in the database: a token made
    # to live two seconds could expire while the CLI that made it was still exiting.
    short = _token(srv, "temp", "--days", str(1 / 24))
    bearer = {"Authorization": f"Bearer {short}"}
    assert requests.get(f"{srv.url}/api/clusters", headers=bearer).status_code == 200
    t = SocketClient(srv, token=short)
    engine = sa.create_engine(f"sqlite:///{srv.instance / 'webshell.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("update api_tokens set expires_at = :past"),
                         {"past": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
                          .replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")})   # SQLite's UTC form
    finally:
        engine.dispose()
    assert requests.get(f"{srv.url}/api/clusters", headers=bearer).status_code == 401
    assert t.disconnected.wait(10), "an expired token's socket stayed connected"

    # A logged-in user creates a token on the page: shown once, then listed without its secret.
    temp = login(srv, "temp", PW)
    page = temp.post(f"{srv.url}/tokens", data={"name": "ci", "days": "7", "csrf_token": csrf_token(temp, srv)})
    assert page.status_code == 201 and page.headers["Cache-Control"] == "no-store"
    import re
    secret = re.search(r'id="new-token" class="secret">(kws_[^<]+)<', page.text).group(1)
    assert secret not in temp.get(f"{srv.url}/tokens").text
    listed = temp.get(f"{srv.url}/api/tokens").json()["tokens"]
    assert {t["name"]: t["state"] for t in listed} == {"cli": "expired", "ci": "active"}
    assert requests.get(f"{srv.url}/api/clusters", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    ci = next(t for t in listed if t["name"] == "ci")
    r = temp.delete(f"{srv.url}/api/tokens/{ci['id']}", headers={"X-CSRFToken": csrf_token(temp, srv)})
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert requests.get(f"{srv.url}/api/clusters", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_token_socket_of_a_disabled_user_is_refused_before_the_guard_cuts_it(make_server):
    srv = make_server(auth_recheck=600)        # the periodic cut will not come during this test
    add_user(srv, "late", ["--namespaces", "team-a", "--exec"])
    t = SocketClient(srv, token=_token(srv, "late"))
    assert t.call("list", {})["ok"]
    cli(srv, "disable-user", "late")
    ack = t.call("open", {"cluster": "kws-local", "namespace": "team-a", "pod": "shell-a", "cols": 80, "rows": 24})
    assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
    t.close()


def test_bearer_token_multipart_upload_needs_no_csrf(srv, cluster):
    from localcluster import demo
    add_user(srv, "uploader", ["--namespaces", "team-a", "--upload"])
    bearer = {"Authorization": f"Bearer {_token(srv, 'uploader')}"}
    url = f"{srv.url}{API}/team-a/pods/shell-a/files/upload"
    r = requests.post(url, params={"path": "."}, headers=bearer, files=[("file", ("via-token.txt", b"tok"))])
    assert r.status_code == 200, r.text
    assert (demo.container_dir(cluster.sandbox, "team-a", "shell-a", "main") / "via-token.txt").read_bytes() == b"tok"
    http = login(srv, "uploader", PW)   # the same user with a cookie must still send the CSRF token
    r = http.post(url, params={"path": "."}, files=[("file", ("via-cookie.txt", b"x"))])
    assert r.status_code == 400 and "CSRF" in r.text
