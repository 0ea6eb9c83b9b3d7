"""Audit log in the database: logins and failures, throttling, denied actions, and the admin search page."""
from __future__ import annotations

import re

import pytest
import requests

from .helpers import login
from .test_access import PW, add_user, admin_events, cli


@pytest.fixture
def srv(make_server, database_url):
    return make_server(database_url=database_url, login_max_failures=3, login_lock_seconds=30)


def _try_login(srv, user: str, password: str) -> requests.Response:
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{srv.url}/login").text).group(1)
    return http.post(f"{srv.url}/login", data={"username": user, "password": password, "csrf_token": token},
                     allow_redirects=False)


def test_logins_failures_and_throttling_are_audited(srv):
    add_user(srv, "frank")
    token = cli(srv, "create-token", "admin").strip()   # this address gets throttled: read the log by token
    assert _try_login(srv, "frank", PW).status_code == 302
    codes = [_try_login(srv, "frank", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    throttled = _try_login(srv, "frank", PW)            # even the right password waits now
    assert throttled.status_code == 429 and "Too many failed logins" in throttled.text
    assert _try_login(srv, "nobody-here", "x").status_code in (401, 429)

    events = admin_events(srv, token, user="frank")
    kinds = [e["event"] for e in events]
    assert kinds.count("login.failed") == 3 and "login.throttled" in kinds and "login" in kinds
    assert all(e["ip"] == "127.0.0.1" for e in events)
    assert not any(PW in str(e) or "wrong-password" in str(e) for e in admin_events(srv, token))


def test_admin_audit_page_searches_and_filters(srv):
    add_user(srv, "gina", ["--namespaces", "team-a"])
    gina = login(srv, "gina", PW)
    assert gina.get(f"{srv.url}/api/clusters/kws-local/namespaces/team-b/pods").status_code == 403
    assert gina.get(f"{srv.url}/admin/audit").status_code == 403          # not an admin
    admin = login(srv)
    page = admin.get(f"{srv.url}/admin/audit", params={"user": "gina", "event": "access"})
    assert page.status_code == 200
    rows = re.findall(r'<tr class="event" data-event="([^"]+)"', page.text)
    assert rows and set(rows) == {"access.denied"}
    assert "team-b" in page.text
    assert admin.get(f"{srv.url}/api/admin/audit", params={"user": "gina", "namespace": "team-a"}).json() == \
        {"events": [], "more": False}
    since = admin.get(f"{srv.url}/api/admin/audit", params={"since": "2999-01-01"}).json()["events"]
    assert since == []
    assert admin.get(f"{srv.url}/api/admin/audit", params={"since": "yesterday"}).status_code == 400
    all_events = admin.get(f"{srv.url}/api/admin/audit").json()["events"]
    assert [e["id"] for e in all_events] == sorted((e["id"] for e in all_events), reverse=True)


def test_the_audit_trail_of_one_session(srv):
    """`session=` finds every event of one terminal (a JSON field: SQLite and PostgreSQL alike)."""
    from .helpers import Term
    admin = login(srv)
    t = Term(srv, admin)
    try:
        first, second = t.open(), t.open("web-2")
        assert t.call("close", {"session": first})["ok"]
    finally:
        t.close()
    trail = admin.get(f"{srv.url}/api/admin/audit", params={"session": first}).json()["events"]
    assert [e["event"] for e in trail] == ["terminal.close", "terminal.open"]
    assert all(e["detail"]["session"] == first for e in trail)
    other = admin.get(f"{srv.url}/api/admin/audit", params={"session": second}).json()["events"]
    assert [e["event"] for e in other][-1] == "terminal.open" and all(e["detail"]["session"] == second for e in other)
    assert admin.get(f"{srv.url}/api/admin/audit", params={"session": "no-such"}).json()["events"] == []
