"""Log lines that no client can forge: every argument of every log record is quoted when needed.

Installed once as the logging record factory, so it covers every logger (ours and the
libraries'), whatever handler or format prints the record. An argument is left as it is
when it is a number or made only of characters that cannot fake a field or a line
(letters, digits, `_ . @ : / + , -`); anything else (spaces, `=`, quotes, newlines, CR,
escape sequences, Unicode line separators) is printed as a Python string literal, which
escapes every control character. Our messages are code: values go in as `%s` arguments,
never spliced into the message. Libraries do splice: eventlet's access line (the request
line, X-Forwarded-For), Flask's "Exception on <path>". So a message that comes without
arguments has its control characters escaped (`\\n`, `\\x1b`): it stays one line, and prints
no escape sequence. Tracebacks are indented by the text formatter (webshell.ops.logs).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_PLAIN = re.compile(r"[A-Za-z0-9_.@:/+,-]+\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_VALUE = 2000       # a logged value longer than this is cut (and says so)


class Safe(str):
    """A string already made of quoted parts (an audit line's fields): printed as it is."""


def quote(value) -> object:
    """`value` as a log argument that cannot break or fake a line; numbers and None pass as they are."""
    if value is None or isinstance(value, (int, float, Safe)):
        return value
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, (bytes, bytearray)) else str(value)
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE] + f"...({len(text)} characters)"
    return text if _PLAIN.match(text) else repr(text)


def escape_controls(text: str) -> str:
    """`text` with every control character (C0, DEL, C1, Unicode line separators) written as its escape."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def fields(**values) -> Safe:
    """`k=v k=v` with each value quoted, for one `%s` argument."""
    return Safe(" ".join(f"{k}={quote(v)}" for k, v in values.items() if v is not None))


def _quoted_args(args):
    if isinstance(args, Mapping):
        return {k: quote(v) for k, v in args.items()}
    return tuple(quote(a) for a in args)


_installed = False


def install() -> None:
    """Quote the arguments of every log record made from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.args:
            record.args = _quoted_args(record.args)
        elif isinstance(record.msg, str):        # a line a library formatted itself
            record.msg = escape_controls(record.msg)
        elif record.msg is not None:             # log.error(exc): the exception's text
            record.msg = escape_controls(str(record.msg))
        return record
    logging.setLogRecordFactory(factory)
