"""The production server: access logs, JSON logs naming the user, `./dev run` without Go, versions."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import tomllib

import requests
import yaml

from .helpers import ADMIN_PASSWORD, ROOT, Term, free_port, login


def test_json_logs_name_the_user_and_access_lines_are_logged(make_server):
    srv = make_server(log_format="json")
    http = login(srv)
    t = Term(srv, http)
    try:
        sid = t.open()
        t.send(sid, "echo json-$((40+2))\n")
        t.wait_for(sid, "json-42")
        assert t.call("close", {"session": sid})["ok"]
        t.wait_exit(sid)
    finally:
        t.close()
    assert requests.get(f"{srv.url}/healthz", timeout=10).status_code == 200
    deadline = time.monotonic() + 10   # the access line is written once the response went out
    while "GET /healthz" not in srv.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [ln for ln in srv.log().splitlines() if ln.startswith("{")]
    records = [json.loads(ln) for ln in lines]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    opened = [r for r in records if r["message"].startswith("audit terminal.open ")]
    assert opened and opened[0]["user"] == "admin", opened
    # The close is audited outside any request, for the session's owner (held as an id): named too.
    deadline = time.monotonic() + 10
    while "audit terminal.close" not in srv.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    closed = [json.loads(ln) for ln in srv.log().splitlines()
              if ln.startswith("{") and '"audit terminal.close ' in ln]
    assert closed and closed[0]["user"] == "admin" and " user=admin " in closed[0]["message"], closed
    assert not any(r.get("user", "admin") != "admin" for r in records)   # a name, never the id
    access = [r for r in records if r["logger"] == "webshell.access"]
    assert any('"GET /healthz HTTP/1.1" 200' in r["message"] for r in access), access[-5:]
    # Everything else the server printed is JSON too (only the first-start banner is not).
    stray = [ln for ln in srv.log().splitlines() if ln.strip() and not ln.startswith("{")]
    assert not [ln for ln in stray if "First start" not in ln and "password" not in ln and ln.strip()], stray


def test_access_log_can_be_switched_off(make_server):
    srv = make_server(access_log=0)
    assert requests.get(f"{srv.url}/healthz", timeout=10).status_code == 200
    time.sleep(1)   # a line would be written within milliseconds (see above)
    assert "GET /healthz" not in srv.log()


# The real node's build prerequisites (./dev check_tools): `./dev run` on a kubeconfig needs none.
NODE_TOOLS = ("containerd", "runc", "gcc", "debootstrap")


def _path_without(bin_dir, hidden: set[str]) -> str:
    """A PATH of one directory: a link to every command of this PATH but the hidden ones (and Go's
    directories), and an apt-get that records what it was asked to install."""
    bin_dir.mkdir()
    for d in os.environ["PATH"].split(":"):
        if "go" in d.split("/") or not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            target = os.path.join(d, name)
            if name not in hidden and not (bin_dir / name).exists() and os.access(target, os.X_OK):
                (bin_dir / name).symlink_to(target)
    apt = bin_dir / "apt-get"
    apt.unlink(missing_ok=True)
    apt.write_text(f'#!/bin/sh\necho "$*" >> {bin_dir / "apt-get.calls"}\n')
    apt.chmod(0o755)
    return str(bin_dir)


def test_dev_run_with_a_kubeconfig_needs_no_go_and_builds_no_cluster(cluster, tmp_path):
    """`./dev run` on a kubeconfig: Go and the real node's build tools off the PATH, an empty build
    cache, and it still serves, having installed nothing (apt-get is never called)."""
    port = free_port()
    bin_dir = tmp_path / "bin"
    # sudo hidden too: a non-root run could not reach the real apt-get through it.
    path = _path_without(bin_dir, {"go", "sudo", *NODE_TOOLS})
    env = {**os.environ, "PATH": path, "KWS_REAL_NODE": "1",   # the real node on: its tools would be wanted
           "KUBECONFIG": str(cluster.admin_kubeconfig), "KWS_PORT": str(port),
           "KWS_INSTANCE_DIR": str(tmp_path / "instance"), "KWS_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "KWS_CACHE_DIR": str(tmp_path / "empty-cache"), "PYTHONUNBUFFERED": "1"}
    for tool in ("go", *NODE_TOOLS):
        assert subprocess.run(["sh", "-c", f"command -v {tool}"], env=env, capture_output=True).returncode != 0
    with open(tmp_path / "dev.log", "wb") as out:
        proc = subprocess.Popen([str(ROOT / "dev"), "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        log = (tmp_path / "dev.log").read_text()
        assert proc.poll() is None, log
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["clusters"] == {"kws-local": "ok"}
        assert "building the local cluster" not in log and not (tmp_path / "empty-cache").exists(), log
        assert "apt-get" not in log and not (bin_dir / "apt-get.calls").exists(), log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)   # ./dev forwards it to the console, which hangs up its shells
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
    assert rc == 0, (tmp_path / "dev.log").read_text()


def test_package_version_matches_the_changelog_and_license():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    top = re.search(r"^## \[?(\d+\.\d+\.\d+)\]?", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert meta["version"] == top
    chart = yaml.safe_load((ROOT / "deploy" / "helm" / "kube-webshell" / "Chart.yaml").read_text())
    assert chart["appVersion"] == meta["version"]   # the image tag the chart and manifests pull
    assert meta["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    pinned = {re.split(r"[=\[]", ln)[0].lower() for ln in (ROOT / "requirements.txt").read_text().splitlines()
              if ln and not ln.startswith("#")}
    declared = {re.split(r"[=<>\[ ]", d)[0].lower() for d in meta["dependencies"]}
    assert declared == pinned


def test_the_test_client_closes_its_socket_when_the_server_dies(make_server):
    """The harness's Socket.IO client (localcluster/console.py) must not leave a socket for the
    garbage collector: its ResourceWarning would fail whichever later test it surfaced in."""
    import signal as _signal

    from .helpers import Term, login
    srv = make_server()
    t = Term(srv, login(srv))
    ws = t.sio.eio.ws
    # Unread data at the server when it dies makes the kernel reset the connection (RST, not FIN):
    # websocket-client then raises ECONNRESET without closing, and python-engineio does not close it.
    srv.proc.send_signal(_signal.SIGSTOP)
    for _ in range(20):
        t.sio.emit("list", {}, namespace="/terminal")
    time.sleep(0.5)
    srv.proc.send_signal(_signal.SIGKILL)
    srv.proc.wait(20)
    deadline = time.monotonic() + 20
    while t.sio.eio.state == "connected" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert t.sio.eio.state == "disconnected"
    assert ws.sock is None or ws.sock._closed       # closed at once, not when collected
    t.sio.disconnect()
