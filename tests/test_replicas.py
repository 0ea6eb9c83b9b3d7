"""Many replicas (issue 14): real consoles sharing PostgreSQL and Redis, each reached directly here.

Shells run on the kwok node, whose exec processes are host processes: a shell's PID (its own $$)
is checked on this machine. The browser through HAProxy is in test_e2e_replicas.py.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from .helpers import ADMIN_PASSWORD, ROOT, Term, csrf_token, login, pid_alive, wait_dead


def shell_pid(term: Term, session: str) -> int:
    term.send(session, "echo PID=$$\n")
    return int(term.wait_for(session, r"PID=(\d+)").group(1))


def audit(http, server, **query) -> list[dict]:
    r = http.get(f"{server.url}/api/admin/audit", params=query)
    assert r.status_code == 200, r.text
    return r.json()["events"]


@pytest.fixture
def two(make_replicas):
    return make_replicas(2)


def test_admin_on_the_other_replica_lists_watches_and_terminates(two):
    user_http = login(two["r0"])
    t = Term(two["r0"], user_http)
    try:
        session = t.open()
        pid = shell_pid(t, session)
        admin_b = Term(two["r1"], login(two["r1"]))
        try:
            listed = admin_b.call("sessions", None)
            assert listed["ok"], listed
            mine = [s for s in listed["sessions"] if s["session"] == session]
            assert mine and mine[0]["replica"] == "r0" and mine[0]["pod"] == "web-1", listed
            page = login(two["r1"]).get(f"{two['r1'].url}/admin/sessions")   # the admin page of the other replica
            assert page.status_code == 200 and session in page.text and "web-1/web @r0" in page.text
            t.send(session, "echo before-$((6*7))\n")
            t.wait_for(session, "before-42")
            watched = admin_b.call("watch", {"session": session})   # live output through the message queue
            assert watched["ok"] and b"before-42" in watched["replay"], watched
            assert watched["meta"]["pod"] == "web-1"
            t.send(session, "echo live-$((6*7))\n")
            admin_b.wait_for(session, "live-42")
            ack = admin_b.call("terminate", {"session": session})
            assert ack["ok"], ack
            assert t.wait_exit(session, 15)["reason"] == "terminated by admin admin"
            assert admin_b.wait_exit(session, 15)["reason"] == "terminated by admin admin"   # the watcher too
        finally:
            admin_b.close()
        assert wait_dead(pid), f"shell {pid} still runs after the terminate on the other replica"
    finally:
        t.close()


def test_attach_on_the_wrong_replica_names_the_owner(two):
    http = login(two["r0"])
    t, other = Term(two["r0"], http), Term(two["r1"], http)
    try:
        session = t.open()
        ack = other.call("attach", {"session": session})
        assert not ack["ok"] and ack["error"]["code"] == "wrong_replica", ack
        assert ack["error"]["replica"] == "r0"
        assert other.call("attach", {"session": "no-such-session"})["error"]["code"] == "not_found"
    finally:
        t.close()
        other.close()


def test_logout_on_b_ends_the_shell_on_a(two):
    http = login(two["r0"])
    t = Term(two["r0"], http)
    try:
        session = t.open()
        pid = shell_pid(t, session)
        r = http.post(f"{two['r1'].url}/logout", headers={"X-CSRFToken": csrf_token(http, two["r1"]),
                                                          "Origin": two["r1"].url}, allow_redirects=False)
        assert r.status_code == 302, r.text
        assert wait_dead(pid), f"shell {pid} still runs on r0 after logging out on r1"
    finally:
        t.close()


def test_revoking_a_token_on_b_ends_its_shell_on_a(two):
    http = login(two["r1"])
    r = http.post(f"{two['r1'].url}/api/tokens", json={"name": "ci"},
                  headers={"X-CSRFToken": csrf_token(http, two["r1"]), "Origin": two["r1"].url})
    assert r.status_code == 201, r.text
    token = r.json()
    t = Term(two["r0"], None, headers={"Authorization": f"Bearer {token['token']}"})
    try:
        session = t.open()
        pid = shell_pid(t, session)
        r = http.delete(f"{two['r1'].url}/api/tokens/{token['id']}",
                        headers={"X-CSRFToken": csrf_token(http, two["r1"]), "Origin": two["r1"].url})
        assert r.status_code == 200, r.text
        assert wait_dead(pid), f"shell {pid} still runs on r0 after its token was revoked on r1"
    finally:
        t.close()


def flask_cli(server, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "webshell", *args], cwd=ROOT, env=server.env,
                   check=True, capture_output=True)


def test_disabling_a_user_on_b_ends_their_shell_on_a(two):
    two["r1"].create_user("dora", "dora-password-1")
    flask_cli(two["r1"], "add-rule", "--user", "dora", "--exec")
    t = Term(two["r0"], login(two["r0"], "dora", "dora-password-1"))
    try:
        session = t.open()
        pid = shell_pid(t, session)
        flask_cli(two["r1"], "disable-user", "dora")
        assert wait_dead(pid), f"shell {pid} still runs on r0 after disabling the user through r1"
    finally:
        t.close()


def test_limits_hold_across_replicas(make_replicas):
    rs = make_replicas(2, max_sessions_per_user=2, max_sessions=3)
    http = login(rs["r0"])
    a, b = Term(rs["r0"], http), Term(rs["r1"], http)
    rs["r0"].create_user("erin", "erin-password-1")
    flask_cli(rs["r0"], "add-rule", "--user", "erin", "--exec")
    c = Term(rs["r1"], login(rs["r1"], "erin", "erin-password-1"))
    try:
        first = a.open()
        b.open()
        for term in (a, b):   # the third of one user, whichever replica it lands on
            ack = term.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1",
                                     "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "limit" and "limit of 2" in ack["error"]["message"]
        c.open()   # the third of the console
        ack = c.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24})
        assert not ack["ok"] and "limit of 3" in ack["error"]["message"], ack
        assert a.call("close", {"session": first})["ok"]
        a.wait_exit(first)
        b.open()   # the freed slot counts on the other replica
    finally:
        for term in (a, b, c):
            term.close()


def test_the_login_throttle_counts_failures_on_every_replica(make_replicas):
    """The throttle's counts live in the replicas' Redis (KWS_RATELIMIT_STORAGE_URI defaults to it)."""
    from .test_throttle import _try, _wait
    rs = make_replicas(2, login_max_failures=3, login_lock_seconds=60)
    for _ in range(3):   # mallory fails on r0 from this address: admin is not locked anywhere
        assert _try(rs["r0"], "mallory", "guess").status_code == 401
    assert _try(rs["r1"], "mallory", "guess").status_code == 429
    assert _try(rs["r1"], "admin", ADMIN_PASSWORD).status_code == 302
    for _ in range(3):   # admin's own failures on r0 lock admin on r1, right password or not
        assert _try(rs["r0"], "admin", "wrong").status_code == 401
    locked = _try(rs["r1"], "admin", ADMIN_PASSWORD)
    assert locked.status_code == 429 and 50 <= _wait(locked) <= 61


def test_sigkill_of_a_replica_hangs_up_its_shells(make_replicas, target):
    """On both node kinds: the shells' PIDs are checked where they run (target.alive)."""
    rs = make_replicas(2)
    http = login(rs["r1"])
    t = Term(rs["r1"], http)
    sessions = [t.open(**target.where) for _ in range(3)]
    pids = [shell_pid(t, s) for s in sessions]
    assert all(target.alive(p) for p in pids)
    killed = time.monotonic()
    rs.kill("r1")
    t.sio.disconnect()
    lease, hang_up = 3, 10   # KWS_REPLICA_LEASE of the fixture; a hang-up: one exec, SIGHUP, SIGKILL after 2 s
    for pid in pids:
        assert target.wait_dead(pid, lease + hang_up - (time.monotonic() - killed) + 1), f"shell {pid} outlived r1"
    admin, deadline = login(rs["r0"]), time.monotonic() + 10   # audited once every hang-up is done
    while True:
        ends = [e for e in audit(admin, rs["r0"], event="terminal.close")
                if e.get("detail", {}).get("reason") == "ended: replica lost"]
        if {e["detail"].get("session") for e in ends} >= set(sessions) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(e["detail"]["session"] for e in ends) == sorted(sessions), ends   # each once
    assert all(e["detail"]["hung_up"] and e["detail"]["replica"] == "r1" for e in ends), ends
    other = Term(rs["r0"], login(rs["r0"]))
    try:
        ack = other.call("attach", {"session": sessions[0]})
        assert ack["error"]["code"] == "not_found" and "replica lost" in ack["error"]["message"], ack
        assert not [s for s in other.call("sessions", None)["sessions"] if s["session"] in sessions]
    finally:
        other.close()


def test_recordings_are_read_from_every_replica(two):
    http = login(two["r0"])
    t = Term(two["r0"], http)
    try:
        session = t.open()
        t.send(session, "echo recorded-$((6*7))\n")
        t.wait_for(session, "recorded-42")
        assert t.call("close", {"session": session})["ok"]
        t.wait_exit(session)
    finally:
        t.close()
    r = login(two["r1"]).get(f"{two['r1'].url}/admin/recordings/{session}/cast")
    assert r.status_code == 200 and b"recorded-42" in r.content


def test_the_transfer_cap_counts_every_replica(make_replicas, cluster):
    import os

    import requests

    from .test_files import CHUNK, NOBODY, api, kwok_box
    rs = make_replicas(2, max_transfers=1)
    box = kwok_box(cluster)
    (box / "slow.bin").write_bytes(os.urandom(32 * CHUNK))
    os.chown(box / "slow.bin", NOBODY, NOBODY)
    http = login(rs["r0"])
    first = http.get(api(rs["r0"]) + "/download", params={"path": str(box / "slow.bin")}, stream=True)
    assert first.status_code == 200
    second = requests.get(api(rs["r1"]) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert second.status_code == 429 and "limit of 1 transfers" in second.json()["error"]["message"]
    assert len(first.content) == 32 * CHUNK   # done: its slot is free on every replica
    again = requests.get(api(rs["r1"]) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert again.status_code == 200 and len(again.content) == 32 * CHUNK


def test_a_rolling_restart_leaves_no_shell_and_audits_every_end(make_replicas):
    """200 terminals on two replicas; each replica restarted in turn (SIGTERM, then start)."""
    count = 200
    rs = make_replicas(2, max_sessions_per_user=count, max_sessions=count, shutdown_timeout=30)
    terms = {name: Term(rs[name], login(rs[name])) for name in rs.servers}
    opened: dict[str, str] = {}
    pids: list[int] = []
    try:
        names = list(terms)
        for i in range(count):
            name = names[i % len(names)]
            session = terms[name].open()
            opened[session] = name
        for session, name in opened.items():
            pids.append(shell_pid(terms[name], session))
        listed = terms["r1"].call("sessions", None)["sessions"]
        ids = [s["session"] for s in listed]
        assert len(ids) == len(set(ids)) == count and set(ids) == set(opened)   # none reported twice
        assert {s["session"]: s["replica"] for s in listed} == opened
        for name in names:   # one by one: SIGTERM (it hangs up its own shells), then start it again
            terms.pop(name).close()
            assert rs[name].stop() == 0
            mine = [p for p, s in zip(pids, opened) if opened[s] == name]
            assert [p for p in mine if pid_alive(p)] == [], f"{name} left shells running"
            rs[name].start()
            terms[name] = Term(rs[name], login(rs[name]))
        assert [p for p in pids if pid_alive(p)] == []
        assert terms["r0"].call("sessions", None)["sessions"] == []
        admin = login(rs["r0"])
        ends, page = [], 1
        while True:
            r = admin.get(f"{rs['r0'].url}/api/admin/audit", params={"event": "terminal.close", "page": page})
            ends += r.json()["events"]
            if not r.json()["more"]:
                break
            page += 1
        ended = [e["detail"]["session"] for e in ends]
        assert sorted(ended) == sorted(opened), "every end audited once"
    finally:
        for term in terms.values():
            term.close()
