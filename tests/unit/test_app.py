"""The app through Flask's test client, CLI runner and Socket.IO test client: no cluster, no server process."""
from __future__ import annotations

from webshell import events
from webshell.extensions import db
from webshell.models import AuditEvent, User

OPEN = {"cluster": "c", "namespace": "ns", "pod": "p", "cols": 80, "rows": 24}


def test_login_and_admin_only_stats(client, auth):
    assert client.get("/api/stats").status_code == 401
    assert auth.login().status_code == 302
    r = client.get("/api/stats")
    assert r.status_code == 200 and r.json["terminals"]["sessions"] == 0
    assert r.json["database"]["checked_out"] == 0


def test_cli_creates_users_through_the_runner(app, runner):
    r = runner.invoke(args=["create-user", "carol", "--role", "team-a", "--password-stdin"], input="long-password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["list-users"])
    assert "carol" in r.output and "role=team-a" in r.output
    r = runner.invoke(args=["create-user", "carol", "--password-stdin"], input="long-password\n")
    assert r.exit_code != 0 and "exists" in r.output


def test_socket_needs_a_login(app):
    from webshell.extensions import socketio
    c = socketio.test_client(app, namespace="/terminal")
    assert not c.is_connected("/terminal")


def test_open_input_output_and_close_through_the_namespace(app, sio):
    c = sio()
    ack = c.emit("open", OPEN, namespace="/terminal", callback=True)
    assert ack["ok"], ack
    shell = app.extensions["kws.test_starter"].shells[0]
    assert c.emit("input", {"session": ack["session"], "data": "id\n"}, namespace="/terminal", callback=True)["ok"]
    assert shell.stream.written == [b"id\n"]
    shell.stream.out(b"uid=0(root)")
    from .fakes import wait_until
    got = []
    wait_until(lambda: got.extend(c.get_received("/terminal")) or any(m["name"] == "output" for m in got))
    out = next(m for m in got if m["name"] == "output")["args"][0]
    assert out == {"session": ack["session"], "data": b"uid=0(root)"}
    assert c.emit("close", {"session": ack["session"]}, namespace="/terminal", callback=True)["ok"]
    with app.app_context():
        events_ = [e.event for e in db.session.execute(db.select(AuditEvent)).scalars()]
    assert "terminal.open" in events_


def test_no_database_connection_is_held_while_a_shell_starts(app, sio):
    starter = app.extensions["kws.test_starter"]
    held = []
    starter.on_start = lambda: held.append(db.engine.pool.checkedout())
    c = sio()
    assert c.emit("open", OPEN, namespace="/terminal", callback=True)["ok"]
    assert held == [0]


def test_input_touches_no_database(app, sio):
    from sqlalchemy import event
    c = sio()
    ack = c.emit("open", OPEN, namespace="/terminal", callback=True)
    queries = []
    listener = lambda *a, **k: queries.append(a[2] if len(a) > 2 else a)  # noqa: E731
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for _ in range(5):
            c.emit("input", {"session": ack["session"], "data": "x"}, namespace="/terminal", callback=True)
            c.emit("resize", {"session": ack["session"], "cols": 90, "rows": 30}, namespace="/terminal",
                   callback=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert queries == []


def test_logout_is_announced_and_ends_the_users_terminals(app, client, auth, sio):
    heard = []
    events.signed_out.connect(lambda sender, uid, reason: heard.append((uid, reason)), sender=app, weak=False)
    c = sio()
    ack = c.emit("open", OPEN, namespace="/terminal", callback=True)
    s = app.extensions["kws.terminal"].registry.sessions()[0]
    client.post("/logout", headers={"X-CSRFToken": auth.csrf()})
    with app.app_context():
        admin_id = str(db.session.execute(db.select(User.id).filter_by(username="admin")).scalar_one())
    assert heard == [(admin_id, "logged out")]
    assert s.closed and s.close_reason == "logged out" and ack["ok"]


def test_metrics_refusals_are_json_errors(app, client):
    r = client.get("/metrics")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    app.config["METRICS_TOKEN"] = "metrics-secret"
    r = client.get("/metrics")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"}).status_code == 200


def test_an_unexpected_failure_is_acknowledged_as_internal(app, sio, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(app.extensions["kws.terminal"], "open", broken)
    ack = sio().emit("open", OPEN, namespace="/terminal", callback=True)
    assert ack == {"ok": False, "error": {"code": "internal", "message": "internal error"}}
