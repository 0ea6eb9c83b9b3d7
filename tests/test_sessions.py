"""Server-side revocation of logins: a cookie captured before logout, password reset or disabling is useless."""
from __future__ import annotations

import time

import pytest
import requests
import socketio

from .helpers import ConsoleServer, csrf_token, login
from .test_access import PW, SocketClient, add_user, cli


@pytest.fixture
def srv(make_server) -> ConsoleServer:
    srv = make_server(auth_recheck=0.5)
    add_user(srv, "dora", ["--namespaces", "demo", "--exec"])
    return srv


def _replay(srv: ConsoleServer, captured: dict) -> requests.Session:
    """A fresh client that only has the captured cookies (an attacker's copy)."""
    s = requests.Session()
    s.cookies.update(captured)
    return s


def _refused(srv: ConsoleServer, http: requests.Session) -> bool:
    try:
        SocketClient(srv, cookies=http).close()
    except socketio.exceptions.ConnectionError:
        return True
    return False


def _cut_within(client: SocketClient, seconds: float) -> bool:
    return client.disconnected.wait(seconds)


def test_a_cookie_captured_before_logout_is_useless_after(srv):
    dora = login(srv, "dora", PW)
    captured = dict(dora.cookies)
    assert _replay(srv, captured).get(f"{srv.url}/api/clusters").status_code == 200
    r = dora.post(f"{srv.url}/logout", headers={"X-CSRFToken": csrf_token(dora, srv)}, allow_redirects=False)
    assert r.status_code == 302
    old = _replay(srv, captured)
    assert old.get(f"{srv.url}/api/clusters").status_code == 401
    assert _refused(srv, old)
    again = login(srv, "dora", PW)                 # a new login works as before
    assert again.get(f"{srv.url}/api/clusters").status_code == 200


def test_log_out_everywhere_ends_every_browser(srv):
    laptop, phone = login(srv, "dora", PW), login(srv, "dora", PW)
    socket = SocketClient(srv, cookies=phone)
    try:
        page = laptop.get(f"{srv.url}/tokens").text
        assert 'action="/logout/everywhere"' in page
        r = laptop.post(f"{srv.url}/logout/everywhere", headers={"X-CSRFToken": csrf_token(laptop, srv)},
                        allow_redirects=False)
        assert r.status_code == 302
        assert _cut_within(socket, 5)
        for http in (laptop, phone):
            assert http.get(f"{srv.url}/api/clusters").status_code == 401
            assert _refused(srv, http)
    finally:
        socket.close()


def test_a_password_reset_cuts_old_logins_and_their_sockets(srv):
    dora = login(srv, "dora", PW)
    socket = SocketClient(srv, cookies=dora)
    try:
        assert socket.call("list", {})["ok"]
        cli(srv, "reset-password", "dora", "--password-stdin", stdin="a-brand-new-password\n")
        # The CLI runs in another process: the guard's re-check (KWS_AUTH_RECHECK) finds the stale login.
        assert _cut_within(socket, 5), "the socket of a login made with the old password stayed connected"
        assert dora.get(f"{srv.url}/api/clusters").status_code == 401
        assert _refused(srv, dora)
    finally:
        socket.close()
    assert login(srv, "dora", "a-brand-new-password").get(f"{srv.url}/api/clusters").status_code == 200


def test_disabling_then_enabling_does_not_revive_old_cookies(srv):
    dora = login(srv, "dora", PW)
    cli(srv, "disable-user", "dora")
    cli(srv, "enable-user", "dora")
    time.sleep(0.1)
    assert dora.get(f"{srv.url}/api/clusters").status_code == 401
    assert login(srv, "dora", PW).get(f"{srv.url}/api/clusters").status_code == 200
