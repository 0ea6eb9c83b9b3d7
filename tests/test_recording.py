"""Session recording (asciicast v2), replay in a real browser, admin watch (read-only) and terminate."""
from __future__ import annotations

import json
import os
import secrets
import time

import pytest
from playwright.sync_api import expect

from webshell.terminal.recording import Recording, RecordingLimits, RecordingStore

from .helpers import Term, csrf_token, login, wait_dead
from .test_access import PW, SocketClient, add_user, shell_pid


def _cast(text: str) -> tuple[dict, list[list]]:
    lines = text.splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


# -- unit: the file format and the disk budget --------------------------------------------------
def _store(tmp_path, **kw) -> RecordingStore:
    limits = dict(max_bytes=10_000, max_total_bytes=100_000, retention_seconds=3600.0, record_input=False)
    return RecordingStore(tmp_path, RecordingLimits(**{**limits, **kw}))


def test_cast_is_asciicast_v2_output_only_and_utf8_safe(tmp_path):
    store = _store(tmp_path)
    rec = store.start("s1", 100, 30, {"user": "alice", "title": "alice@c/ns/p/c"})
    euro = "€".encode()
    rec.event("o", b"hello " + euro[:1])       # a character split across two reads
    rec.event("o", euro[1:] + b"\r\n")
    rec.event("i", b"secret-password\r")       # keystrokes: not recorded by default
    rec.event("r", b"120x40")
    store.finish("s1")
    header, events = _cast((tmp_path / "s1.cast").read_text())
    assert header["version"] == 2 and (header["width"], header["height"]) == (100, 30)
    assert header["kws"]["user"] == "alice"
    assert "".join(e[2] for e in events if e[1] == "o") == "hello €\r\n"
    assert [e[1] for e in events] == ["o", "o", "r"] and events[-1][2] == "120x40"
    assert all(isinstance(e[0], float) for e in events)
    assert "secret-password" not in (tmp_path / "s1.cast").read_text()
    assert oct((tmp_path / "s1.cast").stat().st_mode & 0o777) == "0o600"


def test_input_is_recorded_only_when_configured(tmp_path):
    store = _store(tmp_path, record_input=True)
    store.start("s2", 80, 24, {}).event("i", b"ls\r")
    store.finish("s2")
    assert ["i", "ls\r"] == _cast((tmp_path / "s2.cast").read_text())[1][0][1:]


def test_size_cap_and_disk_budget_and_retention(tmp_path):
    store = _store(tmp_path, max_bytes=2_000, max_total_bytes=5_000)
    rec = store.start("big", 80, 24, {})
    for _ in range(100):
        rec.event("o", b"x" * 100)
    assert rec.truncated
    store.finish("big")
    assert (tmp_path / "big.cast").stat().st_size < 2_000 + 200
    assert "size limit" in (tmp_path / "big.cast").read_text()
    for i in range(5):   # each new recording makes room for a full one
        r = store.start(f"r{i}", 80, 24, {})
        r.event("o", b"y" * 1500)
        store.finish(f"r{i}")
        total = sum(p.stat().st_size for p in tmp_path.glob("*.cast"))
        assert total <= 5_000
    assert not (tmp_path / "big.cast").exists() and (tmp_path / "r4.cast").exists()
    old = tmp_path / "r4.cast"
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.prune() >= 1 and not old.exists()
    assert store.path("../etc/passwd") is None and store.path("r4") is None


def test_bounded_by_disk_budget_even_when_a_recording_is_live(tmp_path):
    store = _store(tmp_path, max_bytes=1_000, max_total_bytes=1_500)
    live = store.start("live", 80, 24, {})
    live.event("o", b"z" * 500)
    store.start("next", 80, 24, {})               # must not delete the live one
    assert (tmp_path / "live.cast").exists()
    store.finish("live")
    store.finish("next")
    assert isinstance(live, Recording) and live.closed


def test_buffered_events_reach_the_file_by_the_interval_the_end_or_a_reader(tmp_path):
    import threading

    from webshell.terminal.hub import LiveHub
    from webshell.terminal.recording import FLUSH_BYTES
    store = _store(tmp_path, max_bytes=1_000_000, flush_seconds=60.0)
    rec = store.start("b1", 80, 24, {"user": "alice"})
    path = tmp_path / "b1.cast"
    assert store.header("b1")["kws"]["user"] == "alice"          # the header is written at once
    rec.event("o", b"kept-in-memory")
    assert "kept-in-memory" not in path.read_text()
    listed = next(r for r in store.list() if r["id"] == "b1")     # a reader sees it all
    assert "kept-in-memory" in path.read_text() and listed["bytes"] == path.stat().st_size == rec.size
    rec.event("o", b"x" * FLUSH_BYTES)                            # past 64 KiB: written at once
    assert path.stat().st_size == rec.size
    rec.event("o", b"at-the-end")
    store.finish("b1")
    assert _cast(path.read_text())[1][-1][2] == "at-the-end"

    # The hub's flusher writes every live recording out each interval, with no reader.
    quick = RecordingStore(tmp_path / "quick", RecordingLimits(10_000, 100_000, 3600.0, False, flush_seconds=0.05))
    hub = LiveHub(quick, lambda *a: None, 1024)
    hub.start(lambda fn: threading.Thread(target=fn, daemon=True).start(), time.sleep)
    quick.start("b2", 80, 24, {}).event("o", b"flushed-by-the-hub")
    deadline = time.monotonic() + 10
    while "flushed-by-the-hub" not in (tmp_path / "quick" / "b2.cast").read_text():
        assert time.monotonic() < deadline, "the flusher never wrote the buffered event"
        time.sleep(0.02)


def test_the_disk_budget_counts_what_a_live_recording_still_buffers(tmp_path):
    store = _store(tmp_path, max_bytes=1_000, max_total_bytes=2_000, flush_seconds=60.0)
    store.start("done", 80, 24, {}).event("o", b"d" * 400)
    store.finish("done")
    live = store.start("live", 80, 24, {})
    live.event("o", b"z" * 800)                  # buffered: the file holds only its header
    assert (tmp_path / "live.cast").stat().st_size < 300 and live.size > 800
    store.start("next", 80, 24, {})              # live 800+ + done 400+ + room 1000 > 2000
    assert not (tmp_path / "done.cast").exists() and (tmp_path / "live.cast").exists()
    store.finish("live")
    store.finish("next")
    assert "z" * 800 in (tmp_path / "live.cast").read_text()


# -- integration: a real server, a real shell, a real browser -----------------------------------
def test_recording_replays_what_was_typed_in_the_browser(server, term, page):
    session = term.open()
    term.send(session, "echo replay-$((6*7))-done\n")
    term.wait_for(session, "replay-42-done")
    assert term.call("close", {"session": session})["ok"]
    term.wait_exit(session)
    admin = login(server)
    listed = admin.get(f"{server.url}/api/admin/recordings").json()["recordings"]
    assert session in {r["id"] for r in listed}
    cast = admin.get(f"{server.url}/admin/recordings/{session}/cast")
    assert cast.status_code == 200 and cast.headers["Cache-Control"] == "no-store"
    header, events = _cast(cast.text)
    assert header["version"] == 2 and header["kws"]["pod"] == "web-1"
    assert "replay-42-done" in "".join(e[2] for e in events if e[1] == "o")
    assert "i" not in {e[1] for e in events}
    closes = admin.get(f"{server.url}/api/admin/audit", params={"event": "terminal.close"}).json()["events"]
    mine = next(e for e in closes if e["detail"].get("session") == session)
    assert mine["pod"] == "web-1" and mine["detail"]["duration"] >= 0

    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/admin/recordings")
    page.click(f"tr[data-session='{session}'] >> text=Replay")
    page.wait_for_selector(".ap-wrapper")
    expect(page.locator("#player")).to_contain_text("replay-42-done", timeout=20000)
    assert not errors, errors


def test_a_live_recording_is_listed_and_served_up_to_now(make_server):
    srv = make_server(recording_flush_seconds=600)   # no write of its own for ten minutes
    http = login(srv)
    t = Term(srv, http)
    try:
        session = t.open()
        t.send(session, "echo live-cast-$((6*7))\n")
        t.wait_for(session, "live-cast-42")
        cast = http.get(f"{srv.url}/admin/recordings/{session}/cast")
        assert cast.status_code == 200 and "live-cast-42" in cast.text
        listed = http.get(f"{srv.url}/api/admin/recordings").json()["recordings"]
        mine = next(r for r in listed if r["id"] == session)
        assert mine["live"] and mine["bytes"] >= len(cast.content)
    finally:
        t.close()


def test_watcher_sees_output_cannot_write_and_admin_terminates(server, admin):
    name = f"watcher-{secrets.token_hex(3)}"
    server.create_user(name, PW, admin=True)
    owner = Term(server, admin)
    session = owner.open()
    pid = shell_pid(owner, session)
    watcher = SocketClient(server, cookies=login(server, name, PW))
    ack = watcher.call("watch", {"session": session})
    assert ack["ok"] and f"pid={pid}".encode() in bytes(ack["replay"])
    owner.send(session, "echo live-$((6*7))\n")
    watcher.wait_for(session, "live-42")            # real time, through the watch
    # Refused: typing is told it is a read-only watch (as for a guest invited to watch); resize and
    # close answer as to anyone who does not own the session.
    for event, data, code in (("input", {"session": session, "data": "echo hijack-$((6*7))\n"}, "forbidden"),
                              ("resize", {"session": session, "cols": 10, "rows": 5}, "not_found"),
                              ("close", {"session": session}, "not_found")):
        refused = watcher.call(event, data)
        assert not refused["ok"] and refused["error"]["code"] == code, refused
    time.sleep(0.5)
    assert b"hijack-42" not in bytes(owner.out[session])
    sessions = admin.get(f"{server.url}/api/admin/sessions").json()["sessions"]
    mine = next(s for s in sessions if s["session"] == session)
    assert mine["user"] == "admin" and mine["watchers"] == 1 and mine["pod"] == "web-1"

    r = admin.post(f"{server.url}/api/admin/sessions/{session}/terminate",
                   headers={"X-CSRFToken": csrf_token(admin, server)})
    assert r.status_code == 200
    assert "terminated by admin" in owner.wait_exit(session)["reason"]
    assert "terminated by admin" in watcher.wait_exit(session)["reason"]
    assert wait_dead(pid)
    owner.close()
    watcher.close()


def test_terminate_over_the_socket_and_the_api_carries_the_reason(server, admin):
    owner = Term(server, admin)
    try:
        first, second = owner.open(), owner.open("web-2")
        sock = SocketClient(server, cookies=admin)
        refused = sock.call("terminate", {"session": first, "reason": "x" * 501})
        assert not refused["ok"] and "longer than 500" in refused["error"]["message"]
        assert sock.call("terminate", {"session": first, "reason": "disk\nfull"})["ok"]
        assert owner.wait_exit(first)["terminated"] == {"by": "admin", "reason": "disk full"}
        r = admin.post(f"{server.url}/api/admin/sessions/{second}/terminate", json={"reason": "upgrade"},
                       headers={"X-CSRFToken": csrf_token(admin, server)})
        assert r.status_code == 200
        done = owner.wait_exit(second)
        assert done["terminated"] == {"by": "admin", "reason": "upgrade"} and done["reason"].endswith(": upgrade")
        sock.close()
    finally:
        owner.close()


def test_only_admins_watch_list_or_terminate(make_server):
    srv = make_server()
    add_user(srv, "mallory", ["--exec"])
    mallory = login(srv, "mallory", PW)
    t = Term(srv, login(srv))
    session = t.open()
    m = SocketClient(srv, cookies=mallory)
    for event in ("watch", "terminate"):
        ack = m.call(event, {"session": session})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    assert not m.call("sessions", {})["ok"]
    assert mallory.get(f"{srv.url}/api/admin/sessions").status_code == 403
    assert mallory.get(f"{srv.url}/admin/recordings/{session}/cast").status_code == 403
    assert mallory.post(f"{srv.url}/api/admin/sessions/{session}/terminate",
                        headers={"X-CSRFToken": csrf_token(mallory, srv)}).status_code == 403
    t.send(session, "echo still-$((6*7))\n")
    t.wait_for(session, "still-42")
    t.close()
    m.close()


@pytest.mark.browser
def test_watch_page_shows_live_output_read_only(server, admin, page):
    owner = Term(server, admin)
    session = owner.open()
    page.goto(f"{server.url}/admin/sessions")
    page.click(f"tr[data-session='{session}'] >> text=Watch")
    page.wait_for_selector("#watch-status:text('live')")
    owner.send(session, "echo watched-$((6*7))\n")
    expect(page.locator("#watch .xterm-rows")).to_contain_text("watched-42", timeout=20000)
    page.click("#watch")
    page.keyboard.type("echo typed-by-watcher\n")
    time.sleep(1)
    assert b"typed-by-watcher" not in bytes(owner.out[session])
    owner.close()
