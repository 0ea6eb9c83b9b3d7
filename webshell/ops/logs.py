"""Log set-up: plain text, or one JSON object per line (KWS_LOG_FORMAT=json) naming the user."""
from __future__ import annotations

import json
import logging
import time

from ..logsafe import escape_controls

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGER = "webshell.access"


def request_user() -> str | None:
    """The user name of the request being handled, if Flask-Login already loaded its user.

    Reads Flask-Login's per-request cache (`g._login_user`) rather than `current_user`, so a
    log call never loads a user from the database (the one touch of Flask-Login's internals here;
    tests/test_server.py fails if it moves).
    """
    from flask import g, has_app_context
    if not has_app_context():
        return None
    user = g.get("_login_user")
    return getattr(user, "username", None) if getattr(user, "is_authenticated", False) else None


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, with every line of a traceback indented and its control characters escaped:
    an exception's message may hold what a client sent, and must not start a line of its own."""

    def formatException(self, ei) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join("  " + escape_controls(line) for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", "user"?, "exception"?} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
               + f".{int(record.msecs):03d}Z", "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        user = getattr(record, "kws_user", None) or request_user()   # audit lines name their user
        if user is not None:
            out["user"] = user
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Root logging to stderr in `fmt` ("text" or "json"); replaces handlers set up before."""
    if fmt not in ("text", "json"):
        raise ValueError(f"KWS_LOG_FORMAT must be `text` or `json`, not {fmt!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_kws", False):
            root.removeHandler(h)
    handler._kws = True   # ours: replaced when an app is created again (tests)
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(level)
