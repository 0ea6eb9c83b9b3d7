"""The keystroke path: `input` and `resize` bypass Flask's request context, and lose no check for it."""
from __future__ import annotations

import flask

from webshell.auth import tokens
from webshell.extensions import db, socketio
from webshell.models import ApiToken, User

from .conftest import PASSWORD, Auth
from .fakes import wait_until

NS = "/terminal"
OPEN = {"cluster": "c", "namespace": "ns", "pod": "p", "cols": 80, "rows": 24}


def _opened(app, c):
    ack = c.emit("open", OPEN, namespace=NS, callback=True)
    assert ack["ok"], ack
    return ack["session"], app.extensions["kws.test_starter"].shells[-1].stream


def test_input_and_resize_run_without_a_request_context(app, sio):
    c = sio()
    session, stream = _opened(app, c)
    seen = []
    write, resize = stream.write, stream.resize
    stream.write = lambda data: seen.append(("w", flask.has_request_context())) or write(data)
    stream.resize = lambda cols, rows: seen.append(("r", flask.has_request_context())) or resize(cols, rows)
    assert c.emit("input", {"session": session, "data": "ls\n"}, namespace=NS, callback=True) == {"ok": True}
    assert c.emit("resize", {"session": session, "cols": 100, "rows": 30}, namespace=NS, callback=True) == {"ok": True}
    c.emit("input", {"session": session, "data": "x"}, namespace=NS)      # no ack asked (as a browser types)
    assert seen == [("w", False), ("r", False), ("w", False)]
    assert stream.written == [b"ls\n", b"x"] and stream.resizes[-1] == (100, 30)


def test_bad_keystroke_events_get_a_clear_error_and_reach_no_stream(app, sio):
    c = sio()
    session, stream = _opened(app, c)
    for payload in (None, "x", {"session": session}, {"session": session, "data": 5},
                    {"session": "nope", "data": "x"}):
        args = () if payload is None else (payload,)
        ack = c.emit("input", *args, namespace=NS, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found"), (payload, ack)
    ack = c.emit("resize", {"session": session, "cols": 0, "rows": 30}, namespace=NS, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"
    assert stream.written == []
    assert c.emit("list", namespace=NS, callback=True)["ok"]     # an event with no payload still answers


def test_another_users_socket_cannot_type_into_a_session(app, sio):
    c = sio()
    session, stream = _opened(app, c)
    other = app.test_client()
    assert Auth(other).login("alice", PASSWORD).status_code == 302
    mallory = socketio.test_client(app, namespace=NS, flask_test_client=other)
    try:
        for event, data in (("input", {"session": session, "data": "rm -rf /\n"}),
                            ("resize", {"session": session, "cols": 10, "rows": 10})):
            ack = mallory.emit(event, data, namespace=NS, callback=True)
            assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
    finally:
        mallory.disconnect(NS)
    assert stream.written == [] and (10, 10) not in stream.resizes


def test_a_revoked_token_is_cut_by_the_recheck_although_keystrokes_skip_the_database(app):
    app.extensions["kws.terminal"].start()          # the guard's re-check, every AUTH_RECHECK (0.05 s)
    with app.app_context():
        admin = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        token, secret = tokens.issue(admin, "dashboard")
        token_id, uid = token.id, str(admin.id)
    c = socketio.test_client(app, namespace=NS, auth={"token": secret})
    assert c.is_connected(NS)
    session, stream = _opened(app, c)
    assert c.emit("input", {"session": session, "data": "a"}, namespace=NS, callback=True)["ok"]
    with app.app_context():
        tokens.revoke(db.session.get(ApiToken, token_id))   # no announcement: only the re-check sees it
    s = app.extensions["kws.terminal"].registry.get(session, uid)
    wait_until(lambda: s.closed, 5, "the re-check ending the revoked token's terminal")
    assert s.close_reason == "API token revoked"
    ack = c.emit("input", {"session": session, "data": "b"}, namespace=NS, callback=True) if c.is_connected(NS) else None
    assert ack is None or ack["ok"] is False
    assert stream.written == [b"a"]
