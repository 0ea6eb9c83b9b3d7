"""The local cluster is a real control plane: real API server, real RBAC, real exec."""
from __future__ import annotations

import hashlib
import json
import re
import time

import pytest
from kubernetes import client, config

from localcluster import demo
from webshell.errors import Forbidden
from webshell.kube import frames
from webshell.kube.conn import Conn, Target
from webshell.kube.execstream import ExecStream
from .helpers import stty_size_when

VERSIONS = dict(line.split("=", 1) for line in
                (demo.Path(demo.__file__).parent / "versions.env").read_text().splitlines()
                if line and not line.startswith("#"))


def api_for(kubeconfig) -> client.ApiClient:
    return config.new_client_from_config(str(kubeconfig))


def exec_in(api: client.ApiClient, namespace: str, pod: str, container: str, argv: list[str], **kw) -> ExecStream:
    return Conn(api, Target("kws-local", namespace, pod, container), 15).exec(argv, **kw)


def drain(stream: ExecStream, timeout: float = 60) -> tuple[bytes, frames.ExitStatus | None]:
    out, status = bytearray(), None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = stream.read()
        if frame is None:
            break
        if frame[0] in (frames.STDOUT, frames.STDERR):
            out += frame[1]
        elif frame[0] == frames.ERROR:
            status = frames.exit_status(frame[1])
            break
    stream.close()
    return bytes(out), status


def test_lists_demo_pods_and_real_version(cluster):
    api = api_for(cluster.admin_kubeconfig)
    pods = client.CoreV1Api(api).list_namespaced_pod("demo").items
    phases = {p.metadata.name: p.status.phase for p in pods}
    assert phases["web-1"] == "Running"
    assert phases["pending"] == "Pending"
    assert [c.name for c in next(p for p in pods if p.metadata.name == "multi").spec.containers] == ["app", "sidecar"]
    version = client.VersionApi(api).get_code()
    assert version.git_version == VERSIONS["KUBERNETES_VERSION"]
    assert version.minor == VERSIONS["KUBERNETES_VERSION"].split(".")[1]


def tty_size_after_resize(api, target, cols: int, rows: int) -> bytes:
    """Resize a fresh TTY exec, then let its shell poll `stty size` until the size arrives (10 s at most).

    The resize channel and stdin are separate streams that the kubelet (and kwok) serve in
    separate goroutines: a resize sent first is not ordered before input sent after it, so
    under load the shell may read `stty size` before the resize lands. Waiting a fixed time
    was the flaky part; the shell now waits for the size itself (tests/helpers.py).
    """
    stream = exec_in(api, target.namespace, target.pod, target.container, ["sh"], tty=True)
    assert stream.protocol == frames.V5
    stream.resize(cols, rows)
    stream.write(f"{stty_size_when(rows, cols)}\n".encode())
    # Read until the answer rather than `exit` and drain: kwok may drop a pty's last output when
    # the shell exits right after writing it.
    out, deadline = bytearray(), time.monotonic() + 30
    while not re.search(rb"seen=[^=$]*=", out) and time.monotonic() < deadline:
        frame = stream.read()
        if frame is None:
            break
        if frame[0] in (frames.STDOUT, frames.STDERR):
            out += frame[1]
    stream.close()
    return bytes(out)


def test_tty_exec_follows_resize(cluster, target):
    api = api_for(cluster.admin_kubeconfig)
    assert b"seen=13 57=" in tty_size_after_resize(api, target, 57, 13)
    assert b"seen=49 201=" in tty_size_after_resize(api, target, 201, 49)


def test_non_tty_exec_is_binary_exact(cluster):
    api = api_for(cluster.admin_kubeconfig)
    workdir = demo.container_dir(cluster.sandbox, "demo", "web-2", "web")
    script = 'head -c 5242880 /dev/urandom > random.bin && cat random.bin'
    stream = exec_in(api, "demo", "web-2", "web", ["sh", "-c", script], tty=False,
                             stdin=False, stderr=False)
    out, status = drain(stream, 60)
    assert status is not None and status.code == 0
    assert len(out) == 5 * 1024 * 1024
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256((workdir / "random.bin").read_bytes()).hexdigest()


def test_nonzero_exit_is_reported(cluster, target):
    api = api_for(cluster.admin_kubeconfig)
    stream = exec_in(api, target.namespace, target.pod, target.container, ["sh", "-c", "exit 3"], tty=False,
                     stdin=False)
    _, status = drain(stream)
    assert status is not None and status.failure
    assert status.code == (3 if target.kind == "real" else None)   # kwok: an InternalError without the code


@pytest.mark.parametrize("user,namespace,pod,allowed", [
    ("admin", "team-b", "shell-b", True),
    ("alice", "team-a", "shell-a", True),
    ("alice", "team-b", "shell-b", False),
    ("bob", "demo", "web-1", False),
])
def test_rbac_decides_exec(cluster, user, namespace, pod, allowed):
    kubeconfig = cluster.admin_kubeconfig if user == "admin" else cluster.user_kubeconfig(user)
    api = api_for(kubeconfig)
    if not allowed:
        with pytest.raises(Forbidden) as err:
            exec_in(api, namespace, pod, "main" if pod.startswith("shell") else "web", ["id"],
                    tty=False, stdin=False)
        assert "forbidden" in err.value.message.lower() or "cannot" in err.value.message
        return
    stream = exec_in(api, namespace, pod, "main", ["id", "-u"], tty=False, stdin=False)
    out, status = drain(stream)
    assert status is not None and status.code == 0
    assert out.strip().isdigit()


def test_bob_may_list_but_not_exec(cluster):
    api = api_for(cluster.user_kubeconfig("bob"))
    names = {p.metadata.name for p in client.CoreV1Api(api).list_namespaced_pod("team-b").items}
    assert "shell-b" in names
    raw = client.AuthorizationV1Api(api).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"namespace": "team-b", "verb": "create", "resource": "pods",
                                         "subresource": "exec"}}})
    assert raw.status.allowed is False


def test_listeners_bind_loopback_only(cluster):
    st = json.loads(cluster.state_file.read_text())
    import psutil
    ports = set(st["ports"].values())
    for conn in psutil.net_connections("tcp"):
        if conn.status == "LISTEN" and conn.laddr.port in ports:
            assert conn.laddr.ip == "127.0.0.1", conn
