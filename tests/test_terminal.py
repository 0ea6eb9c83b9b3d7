"""The /terminal protocol against the real server and the real local cluster."""
from __future__ import annotations

import json
import re
import threading
import time

import pytest
import socketio
from kubernetes import client, config

from localcluster import demo

from .helpers import Term, login, pid_alive, stty_size_when, wait_dead

PID = r"PID=(\d+)\b"


def shell_pid(term: Term, session: str) -> int:
    term.send(session, "echo PID=$$\n")
    return int(term.wait_for(session, PID).group(1))


def test_echo_round_trip_and_binary_output(term, target):
    s = term.open(**target.where)
    term.send(s, "echo round-$((20+22))-trip\n")
    term.wait_for(s, r"round-42-trip")
    term.send(s, "printf '\\303\\244\\344\\270\\255\\360\\237\\230\\200\\n'\n")   # ä 中 😀 as raw UTF-8
    term.wait_for(s, "ä中😀".encode())


def test_resize_is_seen_by_stty(term, target):
    s = term.open(**target.where)
    term.send(s, "stty size\n")
    term.wait_for(s, r"40 120")
    assert term.call("resize", {"session": s, "cols": 77, "rows": 21})["ok"]
    term.send(s, stty_size_when(21, 77) + "\n")     # the resize channel is not ordered with stdin
    term.wait_for(s, r"seen=21 77=")


def test_two_sessions_with_different_shells(make_server):
    srv = make_server(allowed_commands="sh")
    t = Term(srv, login(srv))
    try:
        bash = t.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24})
        sh = t.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "multi", "container": "sidecar",
                             "command": ["sh"], "cols": 80, "rows": 24})
        assert bash["ok"] and sh["ok"], (bash, sh)
        assert (bash["shell"], sh["shell"]) == ("bash", "sh")
        assert sh["container"] == "sidecar"
        t.send(bash["session"], "echo A=$BASH_VERSION; pwd\n")
        t.send(sh["session"], "echo B=${BASH_VERSION:-none}; pwd\n")
        t.wait_for(bash["session"], r"A=\d")
        t.wait_for(sh["session"], r"B=none")
        t.wait_for(sh["session"], r"/demo/multi/sidecar")
        assert b"/demo/multi/sidecar" not in t.out[bash["session"]]
    finally:
        t.close()


def test_command_outside_allow_list_is_refused(term):
    ack = term.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24,
                             "command": ["sh", "-c", "touch /tmp/kws-injected"]})
    assert ack == {"ok": False, "error": {"code": "bad_request",
                                          "message": "command is not in the allow-list; omit it to get a shell"}}


OPEN = {"cluster": "kws-local", "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24}


@pytest.mark.parametrize("change,code,words", [
    ({"pod": "no-such-pod"}, "not_found", "pod 'no-such-pod' not found"),
    ({"container": "nope"}, "not_found", "container 'nope' not found in pod 'web-1'"),
    ({"cluster": "elsewhere"}, "not_found", "cluster 'elsewhere'"),
    ({"namespace": "no-such-ns"}, "not_found", "not found"),
    ({"pod": "pending"}, "not_running", "pod 'pending' is Pending"),
    ({"cols": -1}, "bad_request", "'cols'"),
])
def test_open_errors(term, change, code, words):
    req = {**OPEN, **change}
    if req.get("container") is None:
        req.pop("container", None)
    ack = term.call("open", req)
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert words in ack["error"]["message"]


def test_no_shell_is_reported(term, target):
    ack = term.call("open", {**OPEN, "namespace": target.namespace, "pod": target.no_shell_pod})
    assert ack["ok"] is False and ack["error"]["code"] == "no_shell", ack
    assert "tried bash, sh" in ack["error"]["message"]


@pytest.mark.parametrize("user,namespace,pod", [("alice", "team-b", "shell-b"), ("bob", "demo", "web-1")])
def test_forbidden_by_cluster_rbac(cluster, make_server, user, namespace, pod):
    srv = make_server()
    srv.env["KUBECONFIG"] = str(cluster.user_kubeconfig(user))
    srv.stop()
    srv.start()
    t = Term(srv, login(srv))
    try:
        ack = t.call("open", {**OPEN, "cluster": f"kws-local-{user}", "namespace": namespace, "pod": pod})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        assert user in ack["error"]["message"] and "forbidden" in ack["error"]["message"]
        if user == "alice":   # and allowed where RBAC allows
            ok = t.call("open", {**OPEN, "cluster": "kws-local-alice", "namespace": "team-a", "pod": "shell-a"})
            assert ok["ok"], ok
    finally:
        t.close()


def test_cluster_unavailable(cluster, make_server, tmp_path):
    cfg = json.loads(cluster.admin_kubeconfig.read_text())
    cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"   # nothing listens there
    cfg["contexts"][0]["name"] = cfg["current-context"] = "dead"
    cfg["clusters"][0]["name"] = cfg["contexts"][0]["context"]["cluster"] = "dead"   # no merge with the live one
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(json.dumps(cfg))
    srv = make_server(kube_timeout=3)
    srv.env["KUBECONFIG"] = f"{cluster.admin_kubeconfig}:{dead}"
    srv.stop()
    srv.start()
    http = login(srv)
    assert http.get(f"{srv.url}/api/clusters").json() == {"clusters": ["kws-local", "dead"]}
    t = Term(srv, http)
    try:
        ack = t.call("open", {**OPEN, "cluster": "dead"})
        assert ack["ok"] is False and ack["error"]["code"] == "cluster_unavailable", ack
        good = t.call("open", OPEN)   # the other cluster keeps working
        assert good["ok"], good
    finally:
        t.close()


def test_limit_per_user(make_server):
    srv = make_server(max_sessions_per_user=1)
    t = Term(srv, login(srv))
    try:
        assert t.call("open", OPEN)["ok"]
        ack = t.call("open", OPEN)
        assert ack["ok"] is False and ack["error"]["code"] == "limit", ack
    finally:
        t.close()


@pytest.mark.parametrize("event,data", [
    ("input", "not a dict"),
    ("input", {"session": 123, "data": "x"}),
    ("input", {"session": "unknown-session", "data": "x"}),
    ("input", {"session": "unknown-session", "data": "x" * 200_000}),
    ("resize", {"session": "unknown-session", "cols": "80", "rows": 24}),
    ("resize", {"session": "unknown-session", "cols": 10 ** 6, "rows": 24}),
    ("close", None),
    ("attach", {"session": ["list"]}),
    ("open", {"cluster": {"$ne": 1}, "namespace": "demo", "pod": "web-1", "cols": 80, "rows": 24}),
])
def test_malformed_payloads_get_error_acks(term, event, data):
    ack = term.call(event, data)
    assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found"), ack
    assert term.call("open", OPEN)["ok"]   # and the server keeps serving


def test_other_user_cannot_touch_a_session(server, term):
    s = term.open()
    server.create_user("mallory", "mallory-password-1")
    mallory = Term(server, login(server, "mallory", "mallory-password-1"))
    try:
        for event, data in [("attach", {"session": s}), ("input", {"session": s, "data": "touch /tmp/pwned\n"}),
                            ("resize", {"session": s, "cols": 10, "rows": 10}), ("close", {"session": s})]:
            ack = mallory.call(event, data)
            assert ack["ok"] is False and ack["error"]["code"] == "not_found", (event, ack)
        assert mallory.call("list", {})["sessions"] == []
        assert not mallory.out
        term.send(s, "echo still-mine\n")
        term.wait_for(s, "still-mine")
    finally:
        mallory.close()


def test_unauthenticated_socket_is_refused(server):
    sio = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(server.url, namespaces=["/terminal"], transports=["websocket"], wait_timeout=5)


def test_foreign_origin_is_refused(server, admin):
    """Engine.IO's handshake refuses a browser from another origin, even with a valid cookie."""
    url = f"{server.url}/socket.io/?EIO=4&transport=polling"
    evil = admin.get(url, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 400 and "Not an accepted origin" in evil.text
    spoof = admin.get(url, headers={"Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"})
    assert spoof.status_code == 400
    same = admin.get(url, headers={"Origin": server.url})
    assert same.status_code == 200 and '"sid"' in same.text


def test_attach_after_dropped_socket_returns_same_shell(server, admin, target):
    t1 = Term(server, admin)
    s = t1.open(**target.where)
    pid = shell_pid(t1, s)
    t1.send(s, "export MARK=kept-$((3*5))\n")
    t1.wait_for(s, r"[$#] $")   # a user's prompt or root's
    t1.sio.eio.disconnect(abort=True)   # the network drops, no goodbye
    time.sleep(0.5)
    t2 = Term(server, admin)
    try:
        ack = t2.call("attach", {"session": s})
        assert ack["ok"], ack
        assert f"PID={pid}".encode() in ack["replay"]
        t2.send(s, "echo $$ $MARK\n")
        t2.wait_for(s, rf"{pid} kept-15")
    finally:
        t2.close()


def test_close_ends_the_shell(term, target):
    s = term.open(**target.where)
    pid = shell_pid(term, s)
    term.send(s, "sleep 1000 &\n")
    assert target.alive(pid)
    assert term.call("close", {"session": s})["ok"]
    assert term.wait_exit(s)["reason"] == "closed by the user"
    assert target.wait_dead(pid), f"shell {pid} still running after close"


def test_grace_expiry_ends_the_shell(make_server, target):
    srv = make_server(session_grace=3)
    http = login(srv)
    t = Term(srv, http)
    s = t.open(**target.where)
    pid = shell_pid(t, s)
    t.close()
    assert target.alive(pid), "the shell must outlive its socket during the grace period"
    assert target.wait_dead(pid, 20), "the shell must end after the grace period"
    t2 = Term(srv, http)
    try:
        ack = t2.call("attach", {"session": s})
        assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    finally:
        t2.close()


def test_logout_ends_shells_and_sockets(server):
    from .helpers import csrf_token
    http = login(server)
    t = Term(server, http)
    s = t.open()
    pid = shell_pid(t, s)
    r = http.post(f"{server.url}/logout", headers={"X-CSRFToken": csrf_token(http, server)}, allow_redirects=False)
    assert r.status_code == 302
    assert wait_dead(pid), "logout must end the user's shells"
    deadline = time.monotonic() + 10
    while t.sio.connected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not t.sio.connected


def test_server_shutdown_hangs_up_shells(make_server, target):
    srv = make_server()
    t = Term(srv, login(srv))
    s = t.open(**target.where)
    pid = shell_pid(t, s)
    assert srv.stop() == 0
    assert target.wait_dead(pid), "SIGTERM must hang up every shell before the server exits"


def test_pod_deleted_during_session(cluster, term):
    """kwok only: a real node kills the container (tests/test_real_node.py checks that)."""
    api = config.new_client_from_config(str(cluster.admin_kubeconfig))
    core = client.CoreV1Api(api)
    core.create_namespaced_pod("demo", demo.pod_manifest("demo", "doomed", ["c"]))
    demo.wait_running(core, [("demo", "doomed")])
    s = term.open(pod="doomed")
    pid = shell_pid(term, s)
    core.delete_namespaced_pod("doomed", "demo", grace_period_seconds=0)
    ex = term.wait_exit(s, 30)
    assert ex["reason"] == "pod 'doomed' was deleted"
    ack = term.call("input", {"session": s, "data": "echo too-late\n"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    # kwok has no containers to kill, so its exec process outlives the pod (a kubelet kills it with
    # the container); the console has closed its end, and the process ends when kwok stops.
    assert pid > 0


def _sample_rss(server, stop: threading.Event, samples: list[int]) -> None:
    while not stop.is_set():
        samples.append(server.rss())
        time.sleep(0.1)


def _no_prompt_report(srv, t: Term, s: str, before: int, sent_at: float) -> str:
    """Why no prompt came after a Ctrl-C: output still arriving, what the console skipped, the flood alive."""
    with t.cond:
        now, waited = len(t.out[s]), time.monotonic() - sent_at
    time.sleep(1)
    with t.cond:
        later = len(t.out[s])
    skips = [ln for ln in srv.log().splitlines() if "interrupt skipped" in ln]
    try:
        probe = t.open()
        t.send(probe, "echo floods=$(ps -eo args | grep -c '^[y]es flood-line')\n")
        alive = t.wait_for(probe, r"floods=(\d+)", timeout=10).group(1).decode()
    except Exception as e:  # noqa: BLE001 - a report, not a check
        alive = f"unknown ({e!r})"[:200]
    return (f"{now - before} bytes arrived in the {waited:.1f} s after the Ctrl-C, "
            f"{later - now} more in the next second; the console logged {skips or 'no skip'}; "
            f"flooding processes still running: {alive}")


@pytest.mark.parametrize("stalled", [False, True], ids=["reading-client", "stalled-client"])
def test_memory_bounded_under_yes(make_server, stalled):
    srv = make_server()
    release = threading.Event()
    t = Term(srv, login(srv))
    try:
        s = t.open()
        t.send(s, "echo ready\n")
        t.wait_for(s, "ready")
        if stalled:   # the client stops reading: its handler blocks, so it neither reads nor acks
            t.sio.on("output", lambda msg: release.wait(30), namespace="/terminal")
        base = srv.rss()
        samples: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(srv, stop, samples))
        sampler.start()
        try:
            # No ack wait: a stalled client's blocked handler holds up every later message, acks too.
            t.sio.emit("input", {"session": s, "data": "yes flood-line-of-some-length\n"}, namespace="/terminal")
            time.sleep(8)
        finally:
            stop.set()
            sampler.join()
        growth = max(samples) - base
        assert growth < 40 * 1024 * 1024, f"server RSS grew {growth >> 20} MiB"
        if stalled:
            t.sio.on("output", t._output, namespace="/terminal")
            release.set()
        else:
            assert len(t.out[s]) > 2 * 1024 * 1024   # it really flooded
        # Ctrl-C reaches the foreground job through the flood, and the shell answers again.
        before, sent_at = len(t.out[s]), time.monotonic()
        t.send(s, "\x03")
        t.send(s, "echo after-$((40+2))\n")
        try:
            t.wait_for(s, "after-42", timeout=30)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{_no_prompt_report(srv, t, s, before, sent_at)}") from None
    finally:
        release.set()
        t.close()


def test_fast_typing_arrives_in_order(term, target):
    """Each keystroke is its own event (as xterm.js sends them); the shell must see them in order."""
    s = term.open(**target.where)
    text = "echo " + "".join("abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(300))
    for ch in text:
        term.sio.emit("input", {"session": s, "data": ch}, namespace="/terminal")
    term.send(s, "\n")
    term.wait_for(s, b"\r" + text[5:].encode() + b"\r\n")   # echo's own output line, intact


def _exec_connections(server, cluster) -> int:
    """Established TCP connections from the server to the API server (exec websockets and the pool)."""
    import psutil
    port = json.loads(cluster.state_file.read_text())["ports"]["apiserver"]
    return sum(1 for c in psutil.Process(server.proc.pid).net_connections("tcp")
               if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED)


def test_nothing_left_in_the_server(cluster, make_server):
    """After close, grace expiry and remote exit: no session, pump, hang-up task or exec socket remains."""
    srv = make_server(session_grace=1)
    http = login(srv)
    stats = lambda: http.get(f"{srv.url}/api/stats").json()["terminals"]  # noqa: E731
    t = Term(srv, http)
    first = t.open()
    t.send(first, "echo up\n")
    t.wait_for(first, "up")
    baseline = _exec_connections(srv, cluster) - 1   # the API client's own pool stays
    sessions = [first, t.open(pod="web-2"), t.open(pod="multi")]
    assert stats()["pumps"] == 3
    assert _exec_connections(srv, cluster) >= baseline + 3
    t.call("close", {"session": sessions[0]})              # closed by the user
    t.send(sessions[1], "exit\n")                          # the shell exits by itself
    t.wait_exit(sessions[1])
    t.close()                                              # the third waits out its grace period
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = stats()
        if st == {"sessions": 0, "pumps": 0, "hangups": 0} and _exec_connections(srv, cluster) <= baseline + 1:
            break
        time.sleep(0.2)
    assert stats() == {"sessions": 0, "pumps": 0, "hangups": 0}
    assert _exec_connections(srv, cluster) <= baseline + 1


def test_stats_are_for_admins(server, admin):
    server.create_user("statsviewer", "statsviewer-pw-1")
    other = login(server, "statsviewer", "statsviewer-pw-1")
    assert other.get(f"{server.url}/api/stats").status_code == 403
    assert admin.get(f"{server.url}/api/stats").status_code == 200


def test_idle_server_stops_on_sigterm(make_server):
    srv = make_server()
    assert srv.stop() == 0   # exits by itself (0), not killed after the helper's 20 s wait


def test_shutdown_right_after_closing_still_hangs_up(make_server):
    """Terminals closed a moment before SIGTERM are no longer registered; their shells must end too."""
    srv = make_server()
    t = Term(srv, login(srv))
    sessions = [t.open(pod=pod) for pod in ("web-1", "web-2", "multi", "web-1", "web-2")]
    pids = [shell_pid(t, s) for s in sessions]
    for s in sessions:
        t.sio.emit("close", {"session": s}, namespace="/terminal")
    for s in sessions:   # closed and unregistered; their hang-ups have only just been spawned
        t.wait_exit(s)
    assert srv.stop() == 0
    assert all(wait_dead(p, 5) for p in pids), [p for p in pids if pid_alive(p)]
