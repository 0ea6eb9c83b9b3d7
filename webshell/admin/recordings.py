"""The admin's list of recordings: filtered by user, pod, namespace and day, sorted by a column, paged.

The store lists every recording with its header's metadata; the duration is the time from
the session's start to the recording's last write (now, for a live one).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _

from ..errors import BadRequest

FILTERS = ("user", "pod", "namespace", "date")
SORTS = {
    "started": lambda r: r["started"],
    "duration": lambda r: r["duration"],
    "size": lambda r: r["bytes"],
    "user": lambda r: (r["meta"].get("user") or "").lower(),
    "pod": lambda r: (r["meta"].get("pod") or "").lower(),
}


@dataclass
class Page:
    rows: list[dict]
    page: int
    pages: int
    total: int
    sort: str
    order: str
    filters: dict[str, str]


def _day(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(_("'date' must be a day like 2026-01-31")) from None


def rows(listed: list[dict], now: float) -> list[dict]:
    """The store's entries with `started` (seconds) and `duration` (seconds) added."""
    out = []
    for r in listed:
        started = r["meta"].get("started")
        started = float(started) if isinstance(started, (int, float)) else r["mtime"]
        end = now if r.get("live") else max(r["mtime"], started)
        out.append({**r, "started": started, "duration": max(0.0, end - started)})
    return out


def query(listed: list[dict], args, now: float, size: int) -> Page:
    """Filter, sort and cut one page (pure: the store's list in, a Page out)."""
    f = {k: (args.get(k) or "").strip() for k in FILTERS}
    sort = args.get("sort") or "started"
    order = args.get("order") or ("asc" if sort in ("user", "pod") else "desc")
    if sort not in SORTS:
        raise BadRequest(_("'sort' must be one of: %(names)s", names=", ".join(SORTS)))
    if order not in ("asc", "desc"):
        raise BadRequest(_("'order' must be asc or desc"))
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        raise BadRequest(_("'page' must be a number")) from None
    day = _day(f["date"]) if f["date"] else None
    picked = []
    for r in rows(listed, now):
        meta = r["meta"]
        if f["user"] and f["user"].lower() not in (meta.get("user") or "").lower():
            continue
        if f["pod"] and f["pod"].lower() not in (meta.get("pod") or "").lower():
            continue
        if f["namespace"] and f["namespace"] != meta.get("namespace"):
            continue
        if day and dt.datetime.fromtimestamp(r["started"], dt.timezone.utc).date() != day:
            continue
        picked.append(r)
    picked.sort(key=lambda r: r["id"])                      # ties: always the same order
    picked.sort(key=SORTS[sort], reverse=order == "desc")
    pages = max(1, -(-len(picked) // size))
    return Page(picked[(page - 1) * size:page * size], page, pages, len(picked), sort, order, f)


def duration(seconds: float) -> str:
    """1:02:03, 2:03 or 0:05: hours, minutes, seconds (no words to translate)."""
    s = int(seconds)
    h, m, s = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
