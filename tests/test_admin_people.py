"""The admin's users, rules and tokens pages against the real server and cluster: each change takes effect,
is audited with names, is CSRF-checked and admin-only, and disabling or revoking ends sockets at once."""
from __future__ import annotations

import re
import time

import pytest
import requests

from .helpers import Term, csrf_token, login
from .test_access import PW, SocketClient, admin_events

NEW_PW = "a-new-password-42"


@pytest.fixture
def srv(make_server):
    # A re-check far in the future: only the admin pages' own signals can cut a socket in time.
    return make_server(auth_recheck=120)


def _post(http: requests.Session, srv, path: str, **form) -> requests.Response:
    """POST a form; on its 303, load the page it leads to (as a browser would): `.flashes` are its messages."""
    form.setdefault("csrf_token", csrf_token(http, srv))
    r = http.post(f"{srv.url}{path}", data=form, allow_redirects=False)
    r.flashes = []
    if r.status_code == 303:
        r.flashes = re.findall(r'<p class="flash[^"]*" role="\w+">([^<]*)</p>',
                               http.get(f"{srv.url}{r.headers['Location']}").text)
    return r


def _user(admin, srv, name: str) -> dict:
    return next(u for u in admin.get(f"{srv.url}/api/admin/users").json()["users"] if u["name"] == name)


def test_users_are_created_changed_disabled_and_enabled_from_the_page(srv):
    admin = login(srv)
    r = _post(admin, srv, "/admin/users", username="erin", password=PW, role="devs")
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/users")
    assert r.flashes == ["Created user erin."]
    erin = _user(admin, srv, "erin")
    assert erin["role"] == "devs" and not erin["admin"] and not erin["disabled"] and erin["last_login_at"] is None

    alice = login(srv, "erin", PW)
    assert _user(admin, srv, "erin")["last_login_at"] is not None
    page = admin.get(f"{srv.url}/admin/users").text
    row = re.search(r'<tr data-user="erin".*?</tr>', page, re.S).group(0)
    assert 'class="last-login">never<' not in row and f'#{erin["id"]}' in row

    assert _post(admin, srv, "/admin/users/erin/role", role="ops", admin="on").status_code == 303
    assert (_user(admin, srv, "erin")["role"], _user(admin, srv, "erin")["admin"]) == ("ops", True)
    assert _post(admin, srv, "/admin/users/erin/role", role="").status_code == 303
    assert (_user(admin, srv, "erin")["role"], _user(admin, srv, "erin")["admin"]) == (None, False)

    assert _post(admin, srv, "/admin/users/erin/password", password=NEW_PW).status_code == 303
    assert alice.get(f"{srv.url}/api/clusters").status_code == 401          # the old login ended
    alice = login(srv, "erin", NEW_PW)

    # Disabling ends her socket now (the periodic re-check is two minutes away).
    t = SocketClient(srv, cookies=alice)
    try:
        started = time.monotonic()
        assert _post(admin, srv, "/admin/users/erin/disable").status_code == 303
        assert t.disconnected.wait(10), "the disabled user's socket stayed connected"
        assert time.monotonic() - started < 10
    finally:
        t.sio.disconnect()
    assert _user(admin, srv, "erin")["disabled"]
    assert alice.get(f"{srv.url}/api/clusters").status_code == 401
    assert _post(admin, srv, "/admin/users/erin/enable").status_code == 303
    login(srv, "erin", NEW_PW)

    # Refusals are shown on the page, and nothing changes.
    assert _post(admin, srv, "/admin/users/admin/disable").flashes == ["You cannot disable your own account."]
    assert not _user(admin, srv, "admin")["disabled"]
    assert _post(admin, srv, "/admin/users", username="erin", password=PW).flashes == ["User erin exists already."]
    assert "A user name is a letter" in _post(admin, srv, "/admin/users", username="9lives", password=PW).flashes[0]
    assert _post(admin, srv, "/admin/users", username="shorty", password="short").flashes == \
        ["The password needs at least 8 characters."]

    events = [(e["event"], e["user"], e["detail"].get("target")) for e in admin_events(srv)
              if e["event"].startswith("user.")]
    assert ("user.create", "admin", "erin") in events and ("user.disable", "admin", "erin") in events
    assert {"user.role", "user.password", "user.enable"} <= {e for e, *_ in events}


def test_rules_are_added_previewed_and_deleted(srv):
    admin = login(srv)
    _post(admin, srv, "/admin/users", username="fred", password=PW)
    fred = login(srv, "fred", PW)
    preview = admin.get(f"{srv.url}/api/admin/rules/preview", params={"user": "fred", "cluster": "kws-local"}).json()
    assert preview["namespaces"]["team-a"]["list"] == [] and preview["namespaces"]["team-a"]["exec"] == []

    assert _post(admin, srv, "/admin/rules", user="fred", namespaces="team-*", exec="on").status_code == 303
    assert _post(admin, srv, "/admin/rules", role="readers", namespaces="demo").status_code == 303
    rules = admin.get(f"{srv.url}/api/admin/rules").json()["rules"]
    mine = next(r for r in rules if r["user"] == "fred")
    assert mine["namespaces"] == "team-*" and mine["rights"] == ["list", "exec"]
    preview = admin.get(f"{srv.url}/api/admin/rules/preview", params={"user": "fred", "cluster": "kws-local"}).json()
    assert preview["namespaces"]["team-a"]["exec"] == [mine["id"]] and preview["namespaces"]["team-b"]["list"] == [mine["id"]]
    assert preview["namespaces"]["demo"]["list"] == [] and preview["namespaces"]["team-a"]["upload"] == []

    page = admin.get(f"{srv.url}/admin/rules", params={"user": "fred", "cluster": "kws-local"}).text
    cell = re.search(r'<tr data-namespace="team-a">.*?data-action="exec" data-allowed="(\w+)"', page, re.S)
    assert cell.group(1) == "yes"
    assert re.search(r'<tr data-namespace="demo">.*?data-action="list" data-allowed="(\w+)"', page, re.S).group(1) == "no"

    t = Term(srv, fred)     # what the preview says is what the console does
    try:
        session = t.open("shell-a", "team-a")
        t.send(session, "echo ok-$((6*7))\n")
        t.wait_for(session, "ok-42")
    finally:
        t.close()
    assert fred.get(f"{srv.url}/api/clusters/kws-local/namespaces/demo/pods").status_code == 403

    assert _post(admin, srv, f"/admin/rules/{mine['id']}/delete").status_code == 303
    assert fred.get(f"{srv.url}/api/clusters/kws-local/namespaces/team-a/pods").status_code == 403
    assert _post(admin, srv, "/admin/rules", user="fred", role="both").flashes == ["Give a user or a role, not both."]
    kinds = [(e["event"], e["user"]) for e in admin_events(srv) if e["event"].startswith("rule.")]
    assert kinds.count(("rule.add", "admin")) == 2 and ("rule.delete", "admin") in kinds


def test_any_users_token_is_revoked_and_its_socket_ends_now(srv):
    admin = login(srv)
    _post(admin, srv, "/admin/users", username="gail", password=PW)
    gail = login(srv, "gail", PW)
    made = gail.post(f"{srv.url}/api/tokens", json={"name": "dash"}, headers={"X-CSRFToken": csrf_token(gail, srv)})
    assert made.status_code == 201
    token_id, secret = made.json()["id"], made.json()["token"]
    listed = admin.get(f"{srv.url}/api/admin/tokens").json()["tokens"]
    assert any(t["id"] == token_id and t["user"] == "gail" and t["state"] == "active" for t in listed)
    page = admin.get(f"{srv.url}/admin/tokens").text
    assert re.search(rf'<tr data-token="{token_id}">.*?gail.*?dash', page, re.S)

    t = SocketClient(srv, token=secret)
    try:
        assert _post(admin, srv, f"/admin/tokens/{token_id}/revoke").status_code == 303
        assert t.disconnected.wait(10), "the revoked token's socket stayed connected"
    finally:
        t.sio.disconnect()
    assert requests.get(f"{srv.url}/api/clusters", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    revoked = [e for e in admin_events(srv) if e["event"] == "token.revoke"]
    assert revoked and revoked[0]["user"] == "admin" and revoked[0]["detail"]["owner"] == "gail"


def test_the_admin_forms_are_csrf_checked_admin_only_and_never_for_tokens(srv):
    admin = login(srv)
    _post(admin, srv, "/admin/users", username="hank", password=PW)
    hank = login(srv, "hank", PW)
    for path in ("/admin/users", "/admin/rules", "/admin/tokens", "/api/admin/users", "/api/admin/rules"):
        assert hank.get(f"{srv.url}{path}").status_code == 403, path
    assert _post(hank, srv, "/admin/users", username="evil", password=PW).status_code == 403
    assert _post(hank, srv, "/admin/users/hank/role", admin="on").status_code == 403
    no_csrf = admin.post(f"{srv.url}/admin/users", data={"username": "ivan", "password": PW}, allow_redirects=False)
    assert no_csrf.status_code == 400
    token = admin.post(f"{srv.url}/api/tokens", json={"name": "x"},
                       headers={"X-CSRFToken": csrf_token(admin, srv)}).json()["token"]
    by_token = requests.post(f"{srv.url}/admin/users", data={"username": "ivan", "password": PW},
                             headers={"Authorization": f"Bearer {token}"}, allow_redirects=False)
    assert by_token.status_code == 403
    assert "ivan" not in {u["name"] for u in admin.get(f"{srv.url}/api/admin/users").json()["users"]}
    assert "evil" not in {u["name"] for u in admin.get(f"{srv.url}/api/admin/users").json()["users"]}
