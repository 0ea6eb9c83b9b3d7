"""KWS_KUBE_TIMEOUT is one deadline per Kubernetes operation, against a real API server frozen by SIGSTOP.

The cluster here is this module's own (never the session's, which other tests share), and
its API server is always resumed (SIGCONT) before the test ends.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import requests

from localcluster.cluster import LocalCluster
from webshell.errors import ClusterUnavailable
from webshell.kube.conn import Target
from webshell.kube import process
from webshell.kube.clusters import ClusterRegistry

from .helpers import ConsoleServer, Term, login

TIMEOUT = 2.0
SLACK = 2.0        # start-up of the request, a loaded machine; a retry of the old kind costs another TIMEOUT


@pytest.fixture(scope="module")
def own_cluster():
    state = Path(tempfile.mkdtemp(prefix="kws-test-frozen-"))
    state.chmod(0o755)
    lc = LocalCluster(state, real_node=False)      # the demo pods on kwok are all these tests use
    lc.up(log=lambda *a: None)
    try:
        yield lc
    finally:
        lc.down(quiet=True)
        shutil.rmtree(state, ignore_errors=True)


@contextlib.contextmanager
def frozen(lc: LocalCluster, name: str = "kube-apiserver"):
    pid = lc._state()["pids"][name]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def slow_server(own_cluster, tmp_path_factory):
    srv = ConsoleServer(own_cluster.admin_kubeconfig, tmp_path_factory.mktemp("frozen"),
                        kube_timeout=TIMEOUT, pod_check_interval=3600).start()
    yield srv
    srv.stop()


def _port(lc: LocalCluster) -> int:
    return lc._state()["ports"]["apiserver"]


def _timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def test_rest_calls_to_a_frozen_api_server_end_within_the_timeout(own_cluster, slow_server):
    http = login(slow_server)
    base = f"{slow_server.url}/api/clusters/kws-local/namespaces"
    assert http.get(f"{base}/demo/pods").status_code == 200       # a pooled connection exists
    port = str(_port(own_cluster))
    with frozen(own_cluster):
        for url in (f"{base}/demo/pods", base, f"{base}/demo/pods/web-1/files/list", f"{base}/demo/pods/web-1/logs"):
            r, took = _timed(lambda: http.get(url, params={"path": "/"}, timeout=30))
            assert r.status_code == 502, (url, r.text)
            message = r.json()["error"]["message"]
            assert "cluster 'kws-local' is not answering" in message, message
            assert port not in r.text and "127.0.0.1" not in r.text
            assert took < TIMEOUT + SLACK, f"{url} took {took:.1f}s with KWS_KUBE_TIMEOUT={TIMEOUT}"
    assert f"127.0.0.1:{port}" in slow_server.log()                # the address is for the log
    assert http.get(f"{base}/demo/pods").status_code == 200       # and it works again once resumed


def test_a_terminal_open_on_a_frozen_api_server_is_told_so_in_time(own_cluster, slow_server):
    term = Term(slow_server, login(slow_server))
    try:
        with frozen(own_cluster):
            ack, took = _timed(lambda: term.call("open", {"cluster": "kws-local", "namespace": "demo",
                                                          "pod": "web-1", "cols": 80, "rows": 24}))
        assert not ack["ok"] and "cluster 'kws-local' is not answering" in ack["error"]["message"], ack
        assert str(_port(own_cluster)) not in ack["error"]["message"]
        assert took < TIMEOUT + SLACK, took
    finally:
        term.close()


def test_exec_connects_and_hang_ups_end_within_the_timeout(own_cluster):
    reg = ClusterRegistry(str(own_cluster.admin_kubeconfig), TIMEOUT)
    conn = reg.conn(Target("kws-local", "demo", "web-1", "web"))
    with frozen(own_cluster):
        t0 = time.monotonic()
        with pytest.raises(ClusterUnavailable) as err:      # every exec (terminals, files, hang-ups): names the cluster
            conn.exec(["true"], tty=False)
        assert time.monotonic() - t0 < TIMEOUT + SLACK
        assert "cluster 'kws-local' is not answering" in err.value.message, err.value.message
        assert str(_port(own_cluster)) not in err.value.message
        ok, took = _timed(lambda: process.hang_up(conn, 999999, grace=0.1))
        assert ok is False and took < TIMEOUT + SLACK, took


def test_a_stream_that_stops_answering_ends_after_its_read_timeout(own_cluster):
    """What hang-ups and listings rely on: once connected, a silent exec stream gives up in time."""
    reg = ClusterRegistry(str(own_cluster.admin_kubeconfig), TIMEOUT)
    stream = reg.conn(Target("kws-local", "demo", "web-1", "web")).exec(["sh", "-c", "sleep 30"], tty=False, stdin=False)
    try:
        stream.settimeout(1.0)
        with frozen(own_cluster, "kwok"):
            def until_end():
                frames = []
                while (frame := stream.read()) is not None:
                    frames.append(frame)
                return frames
            got, took = _timed(until_end)
        assert all(payload == b"" for _, payload in got) and took < 1.0 + SLACK, (got, took)
    finally:
        stream.close()


def test_a_download_from_a_cluster_that_freezes_mid_way_ends(own_cluster, tmp_path_factory):
    """The exec stream of a transfer goes silent (kwok frozen): the transfer ends within
    KWS_TRANSFER_IDLE_TIMEOUT and frees its slot, instead of holding the request for ever."""
    from localcluster import demo
    idle = 2.0
    srv = ConsoleServer(own_cluster.admin_kubeconfig, tmp_path_factory.mktemp("idle"), kube_timeout=TIMEOUT,
                        transfer_idle_timeout=idle, transfer_retries=0, max_transfers=1,
                        pod_check_interval=3600).start()
    big = demo.container_dir(own_cluster.sandbox, "demo", "web-2", "web") / "frozen-download.bin"
    big.write_bytes(os.urandom(1024 * 1024) * 256)             # 256 MiB: more than every buffer on the way
    try:
        http = login(srv)
        url = f"{srv.url}/api/clusters/kws-local/namespaces/demo/pods/web-2/files/download"
        r = http.get(url, params={"path": str(big)}, stream=True, timeout=30)
        assert r.status_code == 200
        chunks = r.iter_content(64 * 1024)
        got = len(next(chunks))
        with frozen(own_cluster, "kwok"):
            t0 = time.monotonic()
            with pytest.raises(requests.exceptions.ChunkedEncodingError):   # aborted: never a short "whole" file
                for chunk in chunks:
                    got += len(chunk)
            took = time.monotonic() - t0
        assert got < big.stat().st_size and took < idle + SLACK + 2, (got, took)
        assert "nothing came within KWS_TRANSFER_IDLE_TIMEOUT" in srv.log()
        # The slot is free again (KWS_MAX_TRANSFERS=1): the next download is served, not refused.
        small = big.with_name("after.txt")
        small.write_bytes(b"after-42")
        assert http.get(url, params={"path": str(small)}, timeout=30).content == b"after-42"
    finally:
        srv.stop()
        big.unlink(missing_ok=True)
