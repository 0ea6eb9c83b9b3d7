"""One test per private part of a library that webshell/internals.py touches: an upgrade that moves it fails here."""
from __future__ import annotations

import socket

from flask import Flask, g
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from webshell import internals


def test_flask_login_takes_the_user_from_its_request_cache():
    app = Flask(__name__)
    app.secret_key = "x"
    lm = LoginManager(app)
    lm.user_loader(lambda uid: None)

    class U(UserMixin):
        id = "7"
    with app.test_request_context("/"):
        internals.set_login_user(U())
        assert current_user.get_id() == "7" and g._login_user.id == "7"


def test_flask_wtf_records_exempt_views_and_blueprints():
    from flask import Blueprint
    app = Flask(__name__)
    csrf = CSRFProtect(app)
    bp = Blueprint("free", __name__)

    @app.post("/one")
    @csrf.exempt
    def one():
        return "1"

    @bp.post("/two")
    def two():
        return "2"

    @app.post("/three")
    def three():
        return "3"
    csrf.exempt(bp)
    app.register_blueprint(bp)
    assert internals.csrf_exempt(csrf, app, "one", None)
    assert internals.csrf_exempt(csrf, app, "free.two", "free")
    assert not internals.csrf_exempt(csrf, app, "three", None)


def test_flask_socketio_marks_a_connection_whose_session_it_saved(tmp_path):
    from flask_socketio import SocketIO
    app = Flask(__name__)
    app.secret_key = "x"
    sio = SocketIO(app, async_mode="threading")
    seen = []

    @sio.on("probe")
    def probe():
        from flask import request
        seen.append(internals.is_socketio_followup(request.environ))
    c = sio.test_client(app)
    c.emit("probe")
    c.emit("probe")
    assert seen[-1] is True     # from the second event on, the saved session is in the environ


def test_the_client_socket_is_found_and_tuned_for_werkzeug_environs():
    a, b = socket.socketpair(socket.AF_UNIX)
    tcp = socket.socket()
    try:
        assert internals.client_socket({"werkzeug.socket": a}) is a
        assert internals.client_socket({"gunicorn.socket": b}) is b
        internals.no_delay({"werkzeug.socket": tcp})
        assert tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        internals.no_delay({})    # nothing to tune: no error
    finally:
        a.close(), b.close(), tcp.close()


def test_eventlet_environs_hand_out_their_socket():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # eventlet announces its maintenance mode at import
        import eventlet.wsgi
    assert hasattr(eventlet.wsgi.Input, "get_socket")


def test_eventlet_websocket_unmask_is_replaced_by_an_equal_one():
    import random
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # eventlet announces its maintenance mode at import
        from eventlet.websocket import RFC6455WebSocket
    original = RFC6455WebSocket.__dict__["_apply_mask"]
    assert isinstance(original, staticmethod)           # what the patch replaces, as eventlet defines it
    rng = random.Random(17)
    try:
        assert internals.fast_eventlet_websocket_unmask()
        for n in (0, 1, 3, 4, 5, 60, 125, 126, 4099):
            data = bytes(rng.getrandbits(8) for _ in range(n))
            mask = tuple(rng.getrandbits(8) for _ in range(4))    # eventlet unpacks it as 4 ints
            for offset in (0, 1, 2, 3, 6):
                for length in {None, n, max(0, n - 1)}:
                    want = original.__func__(data, mask, length, offset)
                    assert RFC6455WebSocket._apply_mask(data, mask, length=length, offset=offset) == want
        assert RFC6455WebSocket._apply_mask(b"\x01\x02\x03\x04", [1, 2, 3, 4]) == b"\x00\x00\x00\x00"   # a list too
    finally:
        RFC6455WebSocket._apply_mask = original


def test_a_websocket_upgrade_gets_tcp_nodelay_before_socketio_sees_it(app):
    """The app's outermost WSGI layer tunes the upgrade's own connection; other requests are left alone."""
    from werkzeug.test import EnvironBuilder

    def request(**headers):
        tcp = socket.socket()
        env = EnvironBuilder(path="/socket.io/", query_string="EIO=4&transport=websocket", headers=headers).get_environ()
        env["werkzeug.socket"] = tcp
        try:
            try:
                app.wsgi_app(env, lambda status, hdrs, exc_info=None: None)
            except Exception:  # noqa: BLE001 - no real websocket behind this environ: only the tuning matters
                pass
            return tcp.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            tcp.close()
    assert request(Upgrade="websocket", Connection="Upgrade") == 1
    assert request() == 0
