"""Log lines that no client can forge: every argument of every log record is quoted when needed.

Installed once as the logging record factory, so it covers every logger (ours and the
libraries'), whatever handler or format prints the record. An argument is left as it is
when it is a number or made only of characters that cannot fake a field or a line
(letters, digits, `_ . @ : / + , -`); anything else (spaces, `=`, quotes, newlines, CR,
escape sequences, Unicode line separators) is printed as a Python string literal, which
escapes every control character. Messages themselves are code: values go in as `%s`
arguments, never spliced into the message.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_PLAIN = re.compile(r"[A-Za-z0-9_.@:/+,-]+\Z")
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
        return record
    logging.setLogRecordFactory(factory)
