"""Options for the production server: Flask-SocketIO's eventlet server (eventlet.wsgi).

gunicorn dropped its eventlet worker in 26.0, and Flask-SocketIO runs one eventlet process
per replica with its own SIGTERM path (every shell hung up), so `python app.py` is the
production server; scale out with replicas behind a sticky proxy.
"""
from __future__ import annotations

import logging

from .logs import ACCESS_LOGGER

# eventlet's own fields; the client is the socket's peer, preceded by any X-Forwarded-For.
ACCESS_FORMAT = '%(client_ip)s "%(request_line)s" %(status_code)s %(body_length)s %(wall_seconds).3fs'


def server_options(cfg: dict) -> dict:
    """Keyword arguments for socketio.run() in cfg's async mode."""
    if cfg["ASYNC_MODE"] == "eventlet":
        return {"log_output": cfg["ACCESS_LOG"], "log": logging.getLogger(ACCESS_LOGGER),
                "log_format": ACCESS_FORMAT, "socket_timeout": cfg["HTTP_TIMEOUT"] or None}
    if cfg["ASYNC_MODE"] == "threading":
        return {"allow_unsafe_werkzeug": True}   # development and benchmarks only
    return {"log_output": cfg["ACCESS_LOG"]}
