"""Behind N trusted reverse proxies: take scheme, host, port and client address from X-Forwarded-*."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


def trust_proxies(app: Flask, hops: int) -> None:
    """Wrap the whole WSGI stack (Socket.IO included) so that origin checks, Secure cookies, the
    login throttle and audit addresses all see what the client saw. 0 trusts no header."""
    if hops <= 0:
        return
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    log.info("trusting X-Forwarded-For/-Proto/-Host/-Port from %s proxy hop(s)", hops)
