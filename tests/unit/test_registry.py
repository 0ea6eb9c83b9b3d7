"""SessionRegistry and TerminalService with a fake starter: limits, grace, pod checks, shutdown, auditing."""
from __future__ import annotations

import threading

import pytest

from webshell.errors import BadRequest, LimitReached, NoShell, NotFound
from webshell.terminal.guard import Identity
from webshell.terminal.registry import Settings
from webshell.terminal.service import TerminalService
from webshell.terminal.session import Limits

from .fakes import FakeStarter, FakeTransport, ThreadRuntime, wait_until


def settings(**kw) -> Settings:
    base = dict(allowed_commands=[["top"]], grace=60.0, limits=Limits(4096, 65536, 1024), max_sessions=10,
                max_per_user=3, pod_check_interval=0.05, shutdown_timeout=2.0, poll_interval=0.05)
    return Settings(**{**base, **kw})


class Audit:
    def __init__(self):
        self.events = []

    def __call__(self, event, actor, **fields):
        self.events.append((event, getattr(actor, "username", actor), fields))

    def names(self):
        return [e for e, _, _ in self.events]


def service(starter=None, check=lambda uids, tids, logins: (set(), set(), set()), **kw):
    starter = starter or FakeStarter()
    audit, tr = Audit(), FakeTransport()
    svc = TerminalService(starter, ThreadRuntime(), settings(**kw), tr, audit, check, 0.05, None, 1024)
    return svc, starter, tr, audit


REQ = {"cluster": "c", "namespace": "ns", "pod": "p", "container": None, "command": None, "cols": 80, "rows": 24}


def connect(svc, sid="s1", uid="1", name="alice", token=None):
    svc.connected(sid, Identity(uid, name, token))


def test_open_writes_and_audits_with_the_user_name():
    svc, starter, tr, audit = service()
    connect(svc)
    s = svc.open("s1", REQ)
    assert svc.session("s1", s.id).write(b"ls\n")
    assert starter.shells[0].stream.written == [b"ls\n"]
    assert audit.events[-1][:2] == ("terminal.open", "alice")
    svc.session("s1", s.id).close("closed by the user")
    wait_until(lambda: "terminal.close" in audit.names())
    assert ("exit", {"session": s.id, "code": None, "reason": "closed by the user"}, "s1") in tr.sent
    assert starter.shells[0].hangups == [4242]


def test_other_users_and_unknown_sockets_cannot_reach_a_session():
    svc, *_ = service()
    connect(svc, "s1", "1", "alice")
    connect(svc, "s2", "2", "bob")
    s = svc.open("s1", REQ)
    with pytest.raises(NotFound):
        svc.session("s2", s.id)
    with pytest.raises(Exception, match="not authenticated"):
        svc.session("nobody", s.id)


def test_limits_count_opens_still_under_way():
    starter = FakeStarter()
    starter.gate = threading.Event()
    svc, *_ = service(starter, max_per_user=3, max_sessions=4)
    connect(svc, "a", "1", "alice")
    connect(svc, "b", "2", "bob")
    results = []

    def go(sid):
        try:
            results.append(svc.open(sid, REQ).id)
        except LimitReached as e:
            results.append(e.code)
    threads = [threading.Thread(target=go, args=("a",)) for _ in range(6)]
    threads += [threading.Thread(target=go, args=("b",)) for _ in range(3)]
    for t in threads:
        t.start()
    wait_until(lambda: results.count("limit") >= 5)   # refused at once, while the others are starting
    starter.gate.set()
    for t in threads:
        t.join(5)
    assert results.count("limit") == 5 and len(results) == 9   # 3 for alice, 1 for bob: the server's 4
    assert len(starter.shells) == 4


def test_failed_open_is_audited_with_its_code_and_frees_its_place():
    starter = FakeStarter()
    starter.fail = NoShell("no shell here")
    svc, _, _, audit = service(starter, max_per_user=1)
    connect(svc)
    for _ in range(2):
        with pytest.raises(NoShell):
            svc.open("s1", REQ)
    assert [(e, f["code"]) for e, _, f in audit.events] == [("terminal.open.failed", "no_shell")] * 2
    with pytest.raises(BadRequest):
        svc.open("s1", {**REQ, "command": ["rm", "-rf", "/"]})


def test_grace_expires_for_detached_sessions_only():
    svc, *_ = service(grace=0.1)
    connect(svc, "s1")
    connect(svc, "s2")
    kept = svc.open("s1", REQ)
    dropped = svc.open("s2", REQ)
    svc.disconnected("s2")
    svc.start()
    wait_until(lambda: dropped.closed, 3)
    assert dropped.close_reason == "no client for 0s" and not kept.closed


def test_sessions_of_deleted_pods_end():
    svc, starter, *_ = service()
    connect(svc)
    s = svc.open("s1", REQ)
    starter.pods = set()
    svc.registry.check_pods()
    assert s.closed and s.close_reason == "pod 'p' was deleted"


def test_shutdown_closes_everything_and_waits_for_hang_ups():
    svc, starter, *_ = service()
    connect(svc)
    sessions = [svc.open("s1", REQ) for _ in range(3)]
    svc.shutdown()
    assert all(s.closed for s in sessions)
    assert [sh.hangups for sh in starter.shells] == [[4242]] * 3
    assert svc.stats()["sessions"] == 0


def test_end_user_closes_their_sessions_and_drops_their_sockets():
    svc, _, tr, _ = service()
    connect(svc, "s1", "1", "alice")
    connect(svc, "s2", "1", "alice")
    connect(svc, "s3", "2", "bob")
    mine, theirs = svc.open("s1", REQ), svc.open("s3", REQ)
    svc.end_user("1", "logged out")
    assert mine.closed and mine.close_reason == "logged out" and not theirs.closed
    assert sorted(tr.disconnected) == ["s1", "s2"]


def test_recheck_cuts_disabled_users_and_revoked_tokens():
    state = {"inactive": set(), "unusable": set()}
    svc, _, tr, audit = service(check=lambda uids, tids, logins: (state["inactive"] & uids, state["unusable"] & tids,
                                                                  state.get("revoked", set()) & logins))
    connect(svc, "cookie", "1", "alice")
    connect(svc, "tok", "2", "bob", token=7)
    a, b = svc.open("cookie", REQ), svc.open("tok", REQ)
    svc.guard.recheck(set())
    assert not a.closed and not b.closed and tr.disconnected == []
    state["unusable"] = {7}
    svc.guard.recheck(set())
    assert b.closed and b.close_reason == "API token revoked" and tr.disconnected == ["tok"]
    state["inactive"] = {"1"}
    svc.guard.recheck({"1"})
    assert a.closed and a.close_reason == "account disabled" and "cookie" in tr.disconnected
    assert {"token.cut", "user.cut"} <= set(audit.names())


def test_recheck_cuts_sockets_of_revoked_logins_only():
    state = {"revoked": set()}
    svc, _, tr, _ = service(check=lambda uids, tids, logins: (set(), set(), state["revoked"] & logins))
    svc.connected("old", Identity("1", "alice", None, 1))
    svc.connected("new", Identity("1", "alice", None, 2))
    svc.guard.recheck(set())
    assert tr.disconnected == []
    state["revoked"] = {("1", 1)}
    svc.guard.recheck(set())
    assert tr.disconnected == ["old"]


def test_admin_watch_sees_output_and_terminate_says_who():
    svc, starter, tr, audit = service()
    connect(svc, "owner", "1", "alice")
    s = svc.open("owner", REQ)
    watched = svc.watch("admin-sid", s.id, "root")
    assert watched["meta"]["user"] == "alice"
    starter.shells[0].stream.out(b"hello")
    tr.wait(lambda: any(e == "output" and sid == "admin-sid" for e, _, sid in tr.sent))
    assert svc.describe_all()[0]["watchers"] == 1
    svc.terminate(s.id, "root", "root")
    assert s.close_reason == "terminated by admin root"
    assert ("exit", {"session": s.id, "code": None, "reason": "terminated by admin root"}, "admin-sid") in tr.sent
    assert ("session.terminate", "root") in [(e, a) for e, a, _ in audit.events]
