"""/healthz, /readyz and /metrics through the real server, real cluster and real databases."""
from __future__ import annotations

import json
import os
import secrets

import psycopg
import requests
from prometheus_client.parser import text_string_to_metric_families

from localcluster import demo

from .helpers import ConsoleServer, Term, csrf_token, free_port, login

TOKEN = "metrics-" + secrets.token_hex(8)


def scrape(server) -> dict[tuple[str, tuple], float]:
    r = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(r.text) for s in fam.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_health_needs_no_login_and_reports_clusters(server):
    r = requests.get(f"{server.url}/healthz", timeout=10)
    assert (r.status_code, r.json()) == (200, {"status": "alive"})
    r = requests.get(f"{server.url}/readyz", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "terminals": "ok"},
                        "clusters": {"kws-local": "ok"}}
    assert "Set-Cookie" not in r.headers


def test_unreachable_cluster_is_reported_but_not_fatal(tmp_path, cluster):
    bad = tmp_path / "bad.kubeconfig"
    cfg = json.loads(cluster.admin_kubeconfig.read_text())   # the cluster writes JSON kubeconfigs
    cfg["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"   # nothing listens
    text = json.dumps(cfg)
    bad.write_text(text)
    srv = ConsoleServer(bad, tmp_path / "instance", readyz_timeout=1).start()
    try:
        r = requests.get(f"{srv.url}/readyz", timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["clusters"] == {"kws-local": "unreachable"}
    finally:
        srv.stop()


def test_readyz_fails_when_the_database_goes_away(make_server, postgres):
    admin_url = postgres.replace("postgresql+psycopg", "postgresql") + "/postgres"
    name = f"kws_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    srv = make_server(database_url=f"{postgres}/{name}")
    assert requests.get(f"{srv.url}/readyz", timeout=10).status_code == 200
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database "{name}" with (force)')
    r = requests.get(f"{srv.url}/readyz", timeout=10)
    assert r.status_code == 503, r.text
    assert r.json()["checks"]["database"] == "unreachable"
    assert requests.get(f"{srv.url}/healthz", timeout=10).status_code == 200


def test_metrics_are_off_by_default_and_open_with_the_setting(server, make_server):
    assert requests.get(f"{server.url}/metrics", timeout=10).status_code == 404
    srv = make_server(metrics=1)
    r = requests.get(f"{srv.url}/metrics", timeout=10)
    assert r.status_code == 200 and "kws_terminals_open" in r.text


def test_metrics_token_is_required_when_set(make_server):
    srv = make_server(metrics_token=TOKEN)
    assert requests.get(f"{srv.url}/metrics", timeout=10).status_code == 401
    r = requests.get(f"{srv.url}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert r.status_code == 401
    assert scrape(srv)[("kws_audit_write_failures_total", ())] == 0


def test_metrics_count_logins_terminals_and_transfers(make_server, cluster):
    srv = make_server(metrics_token=TOKEN)
    before = scrape(srv)
    r = requests.Session()
    bad = r.get(f"{srv.url}/login")
    token = bad.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert r.post(f"{srv.url}/login", data={"username": "admin", "password": "nope", "csrf_token": token},
                  allow_redirects=False).status_code == 401
    http = login(srv)
    t = Term(srv, http)
    try:
        sid = t.open()
        t.send(sid, "echo metrics-$((6*7))\n")
        t.wait_for(sid, "metrics-42")
        mid = scrape(srv)
        assert value(mid, "kws_terminals_open") == value(before, "kws_terminals_open") + 1
        ack = t.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "no-such-pod", "cols": 80, "rows": 24})
        assert not ack["ok"] and ack["error"]["code"] == "not_found"
        assert t.call("close", {"session": sid})["ok"]
        t.wait_exit(sid)
    finally:
        t.close()
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"m-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    http.headers["X-CSRFToken"] = csrf_token(http, srv)
    files = f"{srv.url}/api/clusters/kws-local/namespaces/demo/pods/web-2/files"
    data = os.urandom(300_000)
    up = http.put(f"{files}/upload", params={"container": "web", "path": f"{box}/m.bin"}, data=data)
    assert up.status_code == 200, up.text
    down = http.get(f"{files}/download", params={"container": "web", "path": f"{box}/m.bin"})
    assert down.content == data
    denied = http.put(f"{files}/upload", params={"container": "web", "path": "/proc/nope/x"}, data=b"x")
    assert denied.status_code >= 400

    after = scrape(srv)
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert d[("kws_logins_total", (("result", "failed"),))] == 1
    assert d[("kws_logins_total", (("result", "ok"),))] == 1
    assert d[("kws_terminal_opens_total", (("result", "ok"),))] == 1
    assert d[("kws_terminal_opens_total", (("result", "not_found"),))] == 1
    assert d[("kws_terminal_bytes_total", (("direction", "in"),))] == len("echo metrics-$((6*7))\n")
    assert d[("kws_terminal_bytes_total", (("direction", "out"),))] >= len("metrics-42")
    assert d[("kws_exec_connect_seconds_count", ())] >= 4      # 2 terminal opens (1 refused), 2 transfers
    assert d[("kws_transfers_total", (("direction", "upload"), ("result", "ok")))] == 1
    assert d[("kws_transfers_total", (("direction", "download"), ("result", "ok")))] == 1
    assert d[("kws_transfer_bytes_total", (("direction", "upload"), ("result", "ok")))] == len(data)
    assert d[("kws_transfer_bytes_total", (("direction", "download"), ("result", "ok")))] == len(data)
    assert d[("kws_transfer_seconds_count", (("direction", "upload"),))] == 2   # the failed one too
    assert d[("kws_transfer_seconds_count", (("direction", "download"),))] == 1
    assert sum(v for (name, labels), v in d.items() if name == "kws_transfers_total"
               and ("direction", "upload") in labels and ("result", "ok") not in labels) == 1
    assert value(after, "kws_terminals_open") == value(before, "kws_terminals_open")
