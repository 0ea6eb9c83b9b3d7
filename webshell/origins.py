"""Which browser Origins may open sockets and send state-changing requests."""
from __future__ import annotations


def origin_allowed(origin: str | None, environ: dict, allowed: list[str]) -> bool:
    """Same origin as the Host the request came to, or one of `allowed`. No Origin: not a browser."""
    if not origin:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    host = environ.get("HTTP_HOST")
    scheme = environ.get("wsgi.url_scheme", "http")
    return bool(host) and origin == f"{scheme}://{host}"
