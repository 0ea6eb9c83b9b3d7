"""The listing API behind the pickers, against the real cluster."""
from __future__ import annotations

import requests


def test_lists_clusters_namespaces_pods(server, admin):
    assert admin.get(f"{server.url}/api/clusters").json() == {"clusters": ["kws-local"]}
    namespaces = admin.get(f"{server.url}/api/clusters/kws-local/namespaces").json()["namespaces"]
    assert {"demo", "team-a", "team-b"} <= set(namespaces)
    pods = {p["name"]: p for p in admin.get(f"{server.url}/api/clusters/kws-local/namespaces/demo/pods").json()["pods"]}
    assert pods["web-1"]["phase"] == "Running" and pods["pending"]["phase"] == "Pending"
    assert pods["multi"]["default_container"] == "app"
    assert [(c["name"], c["ready"], c["state"]) for c in pods["multi"]["containers"]] == [
        ("app", True, "running"), ("sidecar", True, "running")]
    assert [(c["ready"], c["state"]) for c in pods["pending"]["containers"]] == [(False, "waiting")]


def test_errors_are_json(server, admin):
    r = requests.get(f"{server.url}/api/clusters")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = admin.get(f"{server.url}/api/clusters/nowhere/namespaces")
    assert r.status_code == 404 and "cluster 'nowhere'" in r.json()["error"]["message"]


def test_console_page_serves_its_libraries_locally(server, admin):
    page = admin.get(f"{server.url}/").text
    assert "http://" not in page.replace(server.url, "") and "https://" not in page
    for asset in ("xterm.js", "xterm.css", "addon-fit.js", "socket.io.min.js", "addon-unicode11.js"):
        r = admin.get(f"{server.url}/vendor/{asset}")
        assert r.status_code == 200 and len(r.content) > 1000, asset
    assert admin.get(f"{server.url}/vendor/..%2fpackage.json").status_code == 404
    assert "frame-ancestors 'none'" in admin.get(f"{server.url}/").headers["Content-Security-Policy"]


def test_console_links_tokens_for_everyone_and_admin_for_admins(server, admin):
    from .helpers import login
    page = admin.get(f"{server.url}/").text
    assert 'href="/tokens"' in page and 'href="/admin/"' in page
    server.create_user("plainuser", "plainuser-pw-1")
    plain = login(server, "plainuser", "plainuser-pw-1").get(f"{server.url}/").text
    assert 'href="/tokens"' in plain and 'href="/admin/"' not in plain
