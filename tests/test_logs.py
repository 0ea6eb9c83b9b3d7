"""The logs route against the real cluster: kwok serves the demo containers' log files through pods/log."""
from __future__ import annotations

import threading
import time

import requests

from localcluster import demo

from .helpers import login
from .test_access import PW, add_user, admin_events

LOGS = "/api/clusters/kws-local/namespaces/demo/pods/{pod}/logs"


def append(cluster, pod, container, text):
    with open(demo.logs_file(cluster.sandbox, "demo", pod, container), "a") as f:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
        f.write(f"{stamp} stdout F {text}\n")


def test_tail_previous_timestamps_and_download(server, admin):
    url = server.url + LOGS.format(pod="multi")
    r = admin.get(url, params={"container": "sidecar"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "demo/multi/sidecar line 1\n" in r.text
    last = admin.get(url, params={"container": "sidecar", "tail": "1"}).text.splitlines()
    assert last == [r.text.splitlines()[-1]]
    prev = admin.get(url, params={"container": "sidecar", "previous": "1"}).text
    assert "previous run: demo/multi/sidecar line 1" in prev
    stamped = admin.get(url, params={"container": "app", "timestamps": "1", "tail": "1"}).text
    assert stamped[:4].isdigit() and "T" in stamped.split(" ")[0]
    d = admin.get(url, params={"container": "app", "download": "1"})
    assert d.headers["Content-Disposition"] == 'attachment; filename="multi-app.log"'
    assert admin.get(url, params={"container": "app", "download": "1", "follow": "1"}).status_code == 400
    bad = admin.get(url, params={"tail": "many"})
    assert bad.status_code == 400 and "tail" in bad.json()["error"]["message"]
    assert admin.get(url, params={"container": "nope"}).status_code in (400, 404)
    assert admin.get(server.url + LOGS.format(pod="no-such")).status_code == 404


def test_follow_streams_new_lines_as_they_are_written(server, admin, cluster):
    """A writer appends a numbered line every 0.2 s (as a container's runtime would); the follow sees them in order."""
    url = server.url + LOGS.format(pod="web-2")
    got, stop = [], threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            n += 1
            append(cluster, "web-2", "web", f"tick-{n}")
            time.sleep(0.2)
    threading.Thread(target=writer, daemon=True).start()
    try:
        with admin.get(url, params={"container": "web", "follow": "1", "tail": "0"}, stream=True, timeout=30) as r:
            assert r.status_code == 200
            for line in r.iter_lines(decode_unicode=True):
                got.append(line)
                if len(got) == 5:
                    break
    finally:
        stop.set()
    numbers = [int(x.split("-")[1]) for x in got]
    assert numbers == list(range(numbers[0], numbers[0] + 5)), got


def test_the_logs_right_is_checked_and_audited(make_server):
    srv = make_server()
    add_user(srv, "lena", ["--namespaces", "demo", "--logs"], ["--namespaces", "team-a"])
    lena = login(srv, "lena", PW)
    ok = lena.get(srv.url + LOGS.format(pod="web-1"), params={"container": "web"})
    assert ok.status_code == 200 and "demo/web-1/web line 1" in ok.text
    denied = lena.get(srv.url + "/api/clusters/kws-local/namespaces/team-a/pods/shell-a/logs")
    assert denied.status_code == 403 and "read logs" in denied.json()["error"]["message"]
    events = admin_events(srv, event="logs.read")
    assert any(e["pod"] == "web-1" and e["user"] == "lena" for e in events), events
    assert lena.get(f"{srv.url}/api/clusters/kws-local/rights").json()["namespaces"]["demo"]["logs"] is True
    assert requests.get(srv.url + LOGS.format(pod="web-1")).status_code == 401
