"""The hub's recording side, without a cluster: a session's output, resizes and end in its asciicast file."""
from __future__ import annotations

import json

from webshell.terminal.recording import RecordingLimits, RecordingStore
from webshell.terminal.service import TerminalService

from .fakes import FakeStarter, FakeTransport, ThreadRuntime, wait_until
from .test_registry import REQ, connect, settings


def recorded(tmp_path, max_bytes=1 << 20, record_input=False):
    store = RecordingStore(tmp_path / "recordings", RecordingLimits(max_bytes, 1 << 30, 86400, record_input))
    starter = FakeStarter()
    svc = TerminalService(starter, ThreadRuntime(), settings(), FakeTransport(), lambda *a, **k: None,
                          lambda uids, tids, logins: (set(), set(), set()), 0.05, store, 1024)
    connect(svc, "owner", "1", "alice")
    return svc, starter, store


def cast(store, session_id):
    store.flush(session_id)   # as the admin's download does: what is buffered, too
    lines = store.path(session_id).read_text().splitlines()
    return json.loads(lines[0]), [json.loads(x) for x in lines[1:]]


def test_a_session_is_recorded_from_start_to_end(tmp_path):
    svc, starter, store = recorded(tmp_path)
    s = svc.open("owner", REQ)
    stream = starter.shells[0].stream
    stream.out("héllo\r\n".encode())
    wait_until(lambda: len(cast(store, s.id)[1]) == 1)   # the pump has taken the output
    s.write(b"secret-typed\n")                          # input is not recorded unless KWS_RECORD_INPUT
    s.resize(100, 30)
    wait_until(lambda: len(cast(store, s.id)[1]) == 2)
    svc.close_session(s.id, "closed by the test")
    wait_until(lambda: not store.list()[0]["live"])     # ended: the file is closed
    header, events = cast(store, s.id)
    assert (header["version"], header["width"], header["height"]) == (2, 80, 24)
    assert header["kws"]["user"] == "alice" and header["kws"]["pod"] == "p"
    assert header["title"] == "alice@c/ns/p/" + s.target.container
    assert [e[1:] for e in events] == [["o", "héllo\r\n"], ["r", "100x30"]]
    assert all(isinstance(e[0], float) and e[0] >= 0 for e in events)
    assert "secret-typed" not in store.path(s.id).read_text()
    assert [(r["id"], r["live"]) for r in store.list()] == [(s.id, False)]
    svc.shutdown()


def test_a_recording_stops_at_its_size_cap(tmp_path):
    svc, starter, store = recorded(tmp_path, max_bytes=600)
    s = svc.open("owner", REQ)
    for i in range(20):
        starter.shells[0].stream.out(b"x" * 50 + b"\r\n")
    wait_until(lambda: "recording stopped at its size limit" in store.path(s.id).read_text())
    svc.close_session(s.id, "closed by the test")
    wait_until(lambda: not store.list()[0]["live"])
    text = store.path(s.id).read_text()
    assert text.count("recording stopped at its size limit") == 1
    assert len(text.encode()) < 600 + 200       # the cap, plus its one closing notice
    svc.shutdown()
