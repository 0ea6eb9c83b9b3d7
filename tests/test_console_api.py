"""The console page's APIs against the real cluster: pod search across namespaces, rights per namespace."""
from __future__ import annotations

from .helpers import login
from .test_access import PW, add_user


def test_search_covers_only_the_namespaces_a_user_may_see(make_server):
    srv = make_server()
    add_user(srv, "carol", ["--namespaces", "team-*", "--exec"], ["--namespaces", "demo"])
    carol = login(srv, "carol", PW)
    found = carol.get(f"{srv.url}/api/clusters/kws-local/pods", params={"q": "SHELL"}).json()
    assert sorted((p["namespace"], p["name"]) for p in found["pods"]) == [("team-a", "shell-a"), ("team-b", "shell-b")]
    assert found["truncated"] is False
    web = carol.get(f"{srv.url}/api/clusters/kws-local/pods", params={"q": "web-1"}).json()["pods"]
    assert [(p["namespace"], p["name"]) for p in web] == [("demo", "web-1")]
    pod = web[0]
    assert pod["created"] and pod["containers"][0]["restarts"] == 0 and pod["containers"][0]["reason"] is None

    add_user(srv, "dave", ["--namespaces", "team-a"])
    dave = login(srv, "dave", PW)
    names = {p["name"] for p in dave.get(f"{srv.url}/api/clusters/kws-local/pods", params={"q": ""}).json()["pods"]}
    assert names == {"shell-a"}          # nothing from demo or team-b, though the console could see them


def test_rights_per_namespace(make_server):
    srv = make_server()
    add_user(srv, "erin", ["--namespaces", "team-a", "--exec", "--download"], ["--namespaces", "demo"])
    erin = login(srv, "erin", PW)
    r = erin.get(f"{srv.url}/api/clusters/kws-local/rights").json()["namespaces"]
    assert r == {"demo": {"exec": False, "upload": False, "download": False, "logs": False, "debug": False},
                 "team-a": {"exec": True, "upload": False, "download": True, "logs": False, "debug": False}}
    assert erin.get(f"{srv.url}/api/clusters/other/rights").status_code == 404   # no such cluster
