"""An admin's terminate carries its reason to the user's `exit`; a tab whose session moved elsewhere is told."""
from __future__ import annotations

import pytest

from webshell.admin import recordings as recs
from webshell.errors import BadRequest
from webshell.terminal import validate

from .test_registry import REQ, connect, service


def test_terminate_tells_the_owner_who_and_why():
    svc, _, tr, audit = service()
    connect(svc, "owner", "1", "alice")
    s = svc.open("owner", REQ)
    svc.terminate(s.id, "root", "root", "maintenance at 18:00")
    exits = [m for e, m, sid in tr.sent if e == "exit" and sid == "owner"]
    assert exits == [{"session": s.id, "code": None, "reason": "terminated by admin root: maintenance at 18:00",
                      "terminated": {"by": "root", "reason": "maintenance at 18:00"}}]
    assert [f.get("reason") for e, _, f in audit.events if e == "session.terminate"] == ["maintenance at 18:00"]
    assert svc._terminated == {}


def test_an_ordinary_end_has_no_terminated_field():
    svc, _, tr, _ = service()
    connect(svc, "owner", "1", "alice")
    s = svc.open("owner", REQ)
    s.close("closed by the user")
    assert [m for e, m, _ in tr.sent if e == "exit"] == [{"session": s.id, "code": None, "reason": "closed by the user"}]


def test_attach_from_another_socket_tells_the_old_one():
    svc, _, tr, _ = service()
    connect(svc, "tab1", "1", "alice")
    connect(svc, "tab2", "1", "alice")
    s = svc.open("tab1", REQ)
    svc.attach("tab1", s)                 # the same socket again: nobody to tell
    assert [m for e, m, _ in tr.sent if e == "detached"] == []
    svc.attach("tab2", s)
    assert [(m, sid) for e, m, sid in tr.sent if e == "detached"] == [({"session": s.id, "reason": "taken_over"}, "tab1")]
    assert s.sid == "tab2"


def test_reasons_are_one_line_of_bounded_text():
    assert validate.reason(None, 10) == ""
    assert validate.reason("  a\nb\x1b[2J\tc ", 20) == "a b [2J c"
    for bad in (5, ["x"], "x" * 11):
        with pytest.raises(BadRequest):
            validate.reason(bad, 10)


def _rec(i, user, pod, ns, started, mtime, size=100, live=False):
    return {"id": f"s{i:02d}", "bytes": size, "mtime": mtime, "live": live,
            "meta": {"user": user, "pod": pod, "namespace": ns, "started": started}}


DAY = 1767225600.0      # 2026-01-01T00:00:00Z
LISTED = [_rec(i, "alice" if i % 2 else "bob", f"web-{i % 3}", "demo" if i < 7 else "prod", DAY + i * 3600,
               DAY + i * 3600 + i * 10, size=i) for i in range(10)]


def test_recordings_are_filtered_sorted_and_paged():
    page = recs.query(LISTED, {}, DAY + 86400, 4)
    assert [r["id"] for r in page.rows] == ["s09", "s08", "s07", "s06"] and (page.pages, page.total) == (3, 10)
    assert recs.query(LISTED, {"page": "3"}, DAY, 4).rows[-1]["id"] == "s00"
    assert [r["duration"] for r in page.rows] == [90, 80, 70, 60]
    longest = recs.query(LISTED, {"sort": "duration", "order": "asc"}, DAY, 3).rows
    assert [r["id"] for r in longest] == ["s00", "s01", "s02"]
    picked = recs.query(LISTED, {"user": "ALI", "namespace": "demo", "pod": "web-1"}, DAY, 50).rows
    assert [r["id"] for r in picked] == ["s01"]
    assert recs.query(LISTED, {"date": "2026-01-02"}, DAY, 50).total == 0
    assert recs.query(LISTED, {"date": "2026-01-01"}, DAY, 50).total == 10
    live = recs.query([_rec(1, "a", "p", "n", DAY, DAY + 5, live=True)], {}, DAY + 65, 5).rows[0]
    assert live["duration"] == 65 and recs.duration(live["duration"]) == "1:05" and recs.duration(3723) == "1:02:03"


@pytest.mark.parametrize("args", [{"sort": "nope"}, {"order": "up"}, {"page": "x"}, {"date": "31/01/2026"}])
def test_recording_queries_refuse_bad_parameters(app, args):
    with app.test_request_context():
        with pytest.raises(BadRequest):
            recs.query(LISTED, args, DAY, 5)
