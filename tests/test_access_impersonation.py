"""Impersonation mode: the console acts as the web user, so the local cluster's own RBAC decides."""
from __future__ import annotations

from webshell.access import impersonation
from webshell.models import User

from .helpers import Term, login
from .test_access import API, PW, add_user, cli, shell_pid


def test_headers_name_the_user_and_role_but_never_for_admins():
    from flask import Flask
    app = Flask(__name__)
    app.config["IMPERSONATE"] = True
    with app.app_context():
        assert impersonation(User(username="alice", role="devs", is_admin=False, disabled=False)) == {
            "Impersonate-User": "alice", "Impersonate-Group": "devs"}
        assert impersonation(User(username="bob", is_admin=False, disabled=False)) == {"Impersonate-User": "bob"}
        assert impersonation(User(username="root", is_admin=True, disabled=False)) is None
        assert impersonation(User(username="gone", is_admin=False, disabled=True)) is None
        app.config["IMPERSONATE"] = False
        assert impersonation(User(username="alice", is_admin=False, disabled=False)) is None


def _open(t: Term, ns: str, pod: str) -> dict:
    return t.call("open", {"cluster": "kws-local", "namespace": ns, "pod": pod, "cols": 80, "rows": 24})


def test_cluster_rbac_decides_exec_and_listing(make_server):
    srv = make_server(impersonate=1)
    # The console's rules allow everything; only the cluster's RBAC can say no.
    add_user(srv, "alice", ["--exec", "--upload", "--download"])
    add_user(srv, "bob", ["--exec"])
    alice, bob, admin = login(srv, "alice", PW), login(srv, "bob", PW), login(srv)

    ta = Term(srv, alice)
    session = ta.open("shell-a", "team-a")                 # RBAC: alice may exec in team-a
    assert shell_pid(ta, session) > 0
    denied = _open(ta, "team-b", "shell-b")
    assert not denied["ok"] and denied["error"]["code"] == "forbidden"
    assert 'User "alice" cannot' in denied["error"]["message"]   # the API server's own refusal
    ta.close()

    tb = Term(srv, bob)
    for ns, pod in (("demo", "web-1"), ("team-a", "shell-a"), ("team-b", "shell-b")):
        ack = _open(tb, ns, pod)
        assert not ack["ok"] and ack["error"]["code"] == "forbidden" and 'User "bob"' in ack["error"]["message"]
    tb.close()

    tadmin = Term(srv, admin)                               # admins act with the console's identity
    session = tadmin.open("shell-b", "team-b")
    tadmin.send(session, "echo admin-$((6*7))\n")
    tadmin.wait_for(session, "admin-42")
    tadmin.close()

    # Listings go through the cluster as the user, too: bob may list pods anywhere, alice only in team-a.
    assert bob.get(f"{srv.url}{API}/team-b/pods").status_code == 200
    assert alice.get(f"{srv.url}{API}/team-a/pods").status_code == 200
    r = alice.get(f"{srv.url}{API}/team-b/pods")
    assert r.status_code == 403 and "alice" in r.json()["error"]["message"]
    # Transfers run as the user as well.
    r = alice.get(f"{srv.url}{API}/team-b/pods/shell-b/files/download", params={"path": "x"})
    assert r.status_code == 403
    assert "team-a" in alice.get(f"{srv.url}{API}").json()["namespaces"]
    events = [e["event"] for e in login(srv).get(f"{srv.url}/api/admin/audit",
                                                 params={"user": "bob"}).json()["events"]]
    assert "terminal.open.denied" in events
    assert cli(srv, "list-users").count("active") == 3
