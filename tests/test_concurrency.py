"""Many opens, downloads, uploads and followed logs at once, against the real cluster: each succeeds or
is refused with `limit` (HTTP 429), none fails with `internal`, and every one is audited (a refused
transfer as `file.download.failed` / `file.upload.failed` with `error: limit`).

A request or event must never hold a database connection across Kubernetes I/O: with the
pool's default size (5 + 10 overflow), 15 slow opens holding one each stalled every other.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests

from .helpers import Term, csrf_token, login

OPEN = {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24}


def audit_events(srv, http, prefix: str) -> list[dict]:
    r = http.get(f"{srv.url}/api/admin/audit", params={"event": prefix})
    r.raise_for_status()
    assert r.json()["more"] is False
    return r.json()["events"]


def wait_idle(srv, http, timeout: float = 60) -> dict:
    import time
    deadline = time.monotonic() + timeout
    while True:
        stats = http.get(f"{srv.url}/api/stats").json()
        if stats["terminals"]["sessions"] == 0 and stats["terminals"]["hangups"] == 0:
            return stats
        assert time.monotonic() < deadline, stats
        time.sleep(0.2)


@pytest.mark.parametrize("sockets,opens,cap", [(1, 50, 50), (10, 50, 20), (1, 200, 200), (10, 200, 50)])
def test_simultaneous_opens_succeed_or_hit_the_limit(make_server, sockets, opens, cap):
    """`cap` is the per-user limit: all open under it, or the opens beyond it are refused with `limit`."""
    srv = make_server(audit_page_size=1000, max_sessions_per_user=cap)
    http = login(srv)
    terms = [Term(srv, http) for _ in range(sockets)]
    acks: list[dict] = []
    lock = threading.Lock()

    def go(term: Term) -> None:
        ack = term.call("open", OPEN, timeout=120)
        with lock:
            acks.append((term, ack))
    threads = [threading.Thread(target=go, args=(terms[i % sockets],)) for i in range(opens)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        codes = Counter("ok" if a["ok"] else a["error"]["code"] for _, a in acks)
        assert len(acks) == opens
        assert set(codes) <= {"ok", "limit"}, codes
        assert codes["ok"] == min(opens, cap), codes
        for term, ack in acks:
            if ack["ok"]:
                assert term.call("close", {"session": ack["session"]})["ok"]
        stats = wait_idle(srv, http)
        assert stats["audit"]["lost"] == 0 and stats["database"]["checked_out"] == 0
        events = Counter(e["event"] for e in audit_events(srv, http, "terminal.open"))
        assert events["terminal.open"] == codes["ok"]
        assert events["terminal.open.failed"] == codes["limit"]
        assert "could not store audit event" not in srv.log() and "TimeoutError" not in srv.log()
    finally:
        for t in terms:
            t.close()


FILES = "/api/clusters/kws-local/namespaces/demo/pods/web-2/files"


def transfers(srv, http, prefix: str) -> Counter:
    """file.<prefix> audit rows by event and error: ("file.download", None), ("file.download.failed", "limit")."""
    return Counter((e["event"], e["detail"].get("error")) for e in audit_events(srv, http, prefix))


def test_simultaneous_downloads_succeed_or_are_refused_with_429(make_server):
    srv = make_server(audit_page_size=1000, max_transfers=4)       # low, so that 30 at once surely overlap it
    http = login(srv)
    http.headers["X-CSRFToken"] = csrf_token(http, srv)
    base = srv.url + FILES
    body = bytes(range(256)) * 4096 * 8          # 8 MiB: downloads overlap
    r = http.put(f"{base}/upload", params={"container": "web", "path": "concurrent.bin"}, data=body)
    assert r.status_code == 200, r.text
    cookies = http.cookies.get_dict()
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(30)

    def get() -> None:
        start.wait()
        r = requests.get(f"{base}/download", params={"container": "web", "path": "concurrent.bin"},
                         cookies=cookies, timeout=120)
        with lock:
            results.append((r.status_code, r.content if r.status_code == 200 else r.json()["error"]["code"]))
    threads = [threading.Thread(target=get) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    statuses = Counter(s for s, _ in results)
    assert len(results) == 30 and set(statuses) <= {200, 429}, statuses
    assert statuses[429] > 0 and statuses[200] >= 4, statuses
    assert all(c == body for s, c in results if s == 200)
    assert all(c == "limit" for s, c in results if s == 429)
    rows = transfers(srv, http, "file.download")
    assert rows == Counter({("file.download", None): statuses[200],
                            ("file.download.failed", "limit"): statuses[429]}), (rows, statuses)
    assert "could not store audit event" not in srv.log() and "TimeoutError" not in srv.log()


def test_simultaneous_uploads_succeed_or_are_refused_with_429(make_server):
    srv = make_server(audit_page_size=1000, max_transfers=4)
    http = login(srv)
    headers = {"X-CSRFToken": csrf_token(http, srv)}
    cookies = http.cookies.get_dict()
    base = srv.url + FILES
    bodies = [bytes([i]) * (2 * 1024 * 1024) for i in range(30)]      # 2 MiB each, one byte value per upload
    results: dict[int, tuple[int, dict]] = {}
    lock = threading.Lock()
    start = threading.Barrier(30)

    def put(i: int) -> None:
        start.wait()
        r = requests.put(f"{base}/upload", params={"container": "web", "path": f"up-{i}.bin"}, data=bodies[i],
                         cookies=cookies, headers=headers, timeout=120)
        with lock:
            results[i] = (r.status_code, r.json())
    threads = [threading.Thread(target=put, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    statuses = Counter(s for s, _ in results.values())
    assert len(results) == 30 and set(statuses) <= {200, 429}, statuses
    assert statuses[429] > 0 and statuses[200] >= 4, statuses
    for i, (status, answer) in results.items():
        if status == 429:
            assert answer["error"]["code"] == "limit"
            continue
        assert answer["size"] == len(bodies[i])
        got = http.get(f"{base}/download", params={"container": "web", "path": f"up-{i}.bin"})
        assert got.content == bodies[i]
    rows = transfers(srv, http, "file.upload")
    assert rows == Counter({("file.upload", None): statuses[200],
                            ("file.upload.failed", "limit"): statuses[429]}), (rows, statuses)
    assert "could not store audit event" not in srv.log() and "TimeoutError" not in srv.log()


def test_followed_logs_hold_no_database_connection(make_server):
    """20 followed logs stay open (more than the pool's 5 + 10), and a normal request still answers at once.

    (Flask ends the view's database session when the view returns; the stream runs in a fresh
    context. Opening the log, which may wait up to the idle timeout, is checked by
    tests/unit/test_database_holds.py.)
    """
    srv = make_server()
    http = login(srv)
    url = f"{srv.url}/api/clusters/kws-local/namespaces/demo/pods/web-1/logs"
    cookies = http.cookies.get_dict()
    follows: list[requests.Response] = []
    try:
        for _ in range(20):
            r = requests.get(url, params={"container": "web", "follow": "1", "tail": "1"}, cookies=cookies,
                             stream=True, timeout=20)
            assert r.status_code == 200, r.text
            assert "demo/web-1/web line" in next(r.iter_lines(decode_unicode=True))   # streaming, still open
            follows.append(r)
        assert http.get(f"{srv.url}/api/clusters", timeout=20).status_code == 200
        assert http.get(f"{srv.url}/api/stats", timeout=20).json()["database"]["checked_out"] == 0
    finally:
        for r in follows:
            r.close()
    assert "TimeoutError" not in srv.log()
