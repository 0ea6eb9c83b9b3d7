"""Running the console as a server: background work, and shutting down on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import os
import signal

from flask import Flask

from .extensions import socketio

log = logging.getLogger(__name__)


def start_background(app: Flask) -> None:
    """Start the terminal service's reaper and socket re-check.

    They start with the server, not at the first terminal: their loops also keep the event
    loop waking up, so that work a signal handler schedules (shutdown) runs promptly.
    """
    app.extensions["kws.terminal"].start()


def shutdown_on_signals(app: Flask) -> None:
    """On SIGTERM/SIGINT: close every terminal and hang up its shell, then exit."""

    def _stop() -> None:
        try:
            app.extensions["kws.terminal"].shutdown()
        finally:
            log.info("shut down")
            logging.shutdown()
            os._exit(0)

    def _handler(signum, frame) -> None:
        log.info("signal %s: closing every terminal", signum)
        socketio.start_background_task(_stop)

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


def run(app: Flask, **options) -> None:
    """Serve `app` with Flask-SocketIO's server for the configured async mode (`options`: socketio.run's)."""
    start_background(app)
    shutdown_on_signals(app)
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], **options)
