"""Request headers that Kubernetes reads as lists (Impersonate-Group), through clients that take a dict.

The kubernetes client and urllib3 send each key of a header dict once, and a comma-joined
value would be one group named "a, b". HTTP header names are case-insensitive and the API
server (Go) folds them together, so the n-th value goes out under a differently-cased
spelling of the same name; every line reaches the server as one more value of the list.
"""
from __future__ import annotations

from itertools import product


def _spellings(name: str):
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    for mask in product((False, True), repeat=len(letters)):
        chars = list(name)
        for i, swap in zip(letters, mask):
            if swap:
                chars[i] = chars[i].swapcase()
        yield "".join(chars)


def with_values(headers: dict[str, str], name: str, values: list[str]) -> dict[str, str]:
    """`headers` plus one `name: value` line per value (no values: no line)."""
    out = dict(headers)
    taken = {k for k in out}
    spellings = _spellings(name)
    for value in values:
        key = next(s for s in spellings if s not in taken)
        taken.add(key)
        out[key] = value
    return out


def values(headers: dict[str, str] | None, name: str) -> list[str]:
    """Every value of `name` in `headers`, whatever the spelling (the server's view)."""
    return [v for k, v in (headers or {}).items() if k.lower() == name.lower()]


def carries_token(headers: dict[str, str] | None) -> bool:
    """Does this call authenticate with the user's own bearer token (not the console's credentials)?"""
    return bool(values(headers, "Authorization"))
