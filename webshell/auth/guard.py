"""Every HTTP request: bearer-token authentication, then CSRF for cookie-authenticated changes.

A request with `Authorization: Bearer` is authenticated by that token alone (its cookie,
if any, is ignored), so it needs no CSRF token: a cross-site page can make a browser
send cookies, never this header. Every other state-changing request must carry a CSRF
token (form field csrf_token or header X-CSRFToken), uploads included.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface

from .. import access, internals
from ..errors import error_json, wants_json
from ..extensions import csrf
from . import tokens


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or KWS_COOKIE_SECURE=1)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import has_request_context
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))

    def open_session(self, app: Flask, request):
        # Every Socket.IO event pushes a request context, which opens the session, and then
        # Flask-SocketIO swaps in its own copy of the session, made on the connection's
        # first event ("saved_session"). Decoding and verifying the cookie again for every
        # keystroke was 40 % of an input event's handling; from the second event on, skip it.
        if internals.is_socketio_followup(request.environ):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _unauthorized(message: str):
    resp = error_json("unauthorized", message, 401)
    resp.headers["WWW-Authenticate"] = 'Bearer realm="kube-webshell"'
    return resp


def _csrf_exempt(app: Flask) -> bool:
    return internals.csrf_exempt(csrf, app, request.endpoint, request.blueprint)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False   # checked below, after bearer authentication

    @app.before_request
    def _authenticate():
        g.kws_token_id = None
        secret = tokens.bearer(request.headers.get("Authorization"))
        if secret is not None:
            if "token" in request.args or "access_token" in request.args:
                return _unauthorized("tokens are never accepted in a URL")
            token = tokens.authenticate(secret) if secret else None
            if token is None:
                access.audit("token.denied", None, path=request.path)
                return _unauthorized("invalid, expired or revoked token")
            internals.set_login_user(token.user)   # the cookie is not consulted
            g.kws_token_id = token.id
            return None
        if request.method in app.config["WTF_CSRF_METHODS"] and request.endpoint and not _csrf_exempt(app):
            csrf.protect()
        return None

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_failed(err: CSRFError):
        access.audit("csrf.denied", None, path=request.path, method=request.method)
        if wants_json():
            return error_json("csrf", err.description, 400)
        return err.description, 400
