"""Behaviour only a real runtime has (kubelet + containerd + runc), through the console and beside it.

kwok differs exactly here: it reports no exit code, never passes stdin end-of-file, keeps exec
processes after their pod is deleted, and has no containers to restart.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import time

import pytest
from kubernetes import client, config
from kubernetes.stream import stream

from localcluster import realpods

from .test_files import api, download_sha, http  # noqa: F401 - the http fixture
from .test_terminal import shell_pid


def core_api(cluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(str(cluster.admin_kubeconfig)))


@pytest.mark.parametrize("command,code", [("exit 7", 7), ("kill -9 $$", 137)])
def test_exit_codes_are_delivered(term, target, command, code):
    """On the real node the console reports the shell's exit code; kwok reports none (its quirk)."""
    s = term.open(**target.where)
    shell_pid(term, s)
    term.send(s, command + "\n")
    ex = term.wait_exit(s)
    if target.kind == "real":
        assert (ex["code"], ex["reason"]) == (code, f"exited with code {code}"), ex
    else:
        assert ex["code"] is None, ex   # kwok: an InternalError without the code


def test_stdin_end_of_file_arrives(real_target):
    data = os.urandom(3 * 1024 * 1024 + 17)
    r = real_target.kubectl("exec", "-i", real_target.pod, "--", "sh", "-c", "wc -c", stdin=data, timeout=60)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == len(data)


def test_upload_needing_end_of_file_works(real_target):
    """`cat > f` until EOF (no byte count told to the container), checked by sha256 in the container."""
    data = os.urandom(2 * 1024 * 1024)
    path = f"{real_target.share}/eof-{secrets.token_hex(4)}.bin"
    r = real_target.kubectl("exec", "-i", real_target.pod, "--", "sh", "-c", 'cat > "$1" && sha256sum "$1"',
                            "sh", path, stdin=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    os.unlink(path)


def test_kubectl_cp_reads_what_the_console_uploaded_and_back(server, http, real_target, tmp_path):  # noqa: F811
    t = real_target
    url = api(server, pod=t.pod, namespace=t.namespace)
    data = os.urandom(5 * 1024 * 1024 + 3)
    dest = f"/tmp/up-{secrets.token_hex(4)}.bin"          # in the container's own filesystem
    r = http.put(url + "/upload", params={"container": t.container, "path": dest}, data=data)
    assert r.status_code == 200, r.text
    got = tmp_path / "got.bin"
    r = t.kubectl("cp", "-c", t.container, f"{t.namespace}/{t.pod}:{dest}", str(got))
    assert r.returncode == 0, r.stderr
    assert got.read_bytes() == data
    # and the other way: kubectl cp in (an unpadded tar that needs stdin EOF), the console downloads
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4 * 1024 * 1024 + 5))
    theirs = f"/tmp/kcp-{secrets.token_hex(4)}.bin"
    r = t.kubectl("cp", "-c", t.container, str(src), f"{t.namespace}/{t.pod}:{theirs}")
    assert r.returncode == 0, r.stderr
    resp, digest, n = download_sha(http, url, container=t.container, path=theirs)
    assert resp.status_code == 200 and (digest, n) == (hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_size)
    t.kubectl("exec", t.pod, "--", "rm", "-f", dest, theirs)


def _pod(cluster, core, name: str, command: list[str]) -> None:
    m = realpods.manifest("nonroot", cluster.dir)
    m["metadata"] = {"name": name, "namespace": realpods.NAMESPACE}
    m["spec"]["containers"][0].update(command=command, securityContext={})
    core.create_namespaced_pod(realpods.NAMESPACE, m)
    deadline = time.monotonic() + 60
    while core.read_namespaced_pod(name, realpods.NAMESPACE).status.phase != "Running":
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.2)


def test_pod_deleted_mid_session_ends_the_shell(cluster, term, real_target):
    """A kubelet kills the container with its pod: the console's session ends with it."""
    core = core_api(cluster)
    name = f"doomed-{secrets.token_hex(3)}"
    _pod(cluster, core, name, ["sleep", "infinity"])
    s = term.open(namespace=realpods.NAMESPACE, pod=name)
    shell_pid(term, s)
    t0 = time.monotonic()
    core.delete_namespaced_pod(name, realpods.NAMESPACE, grace_period_seconds=0)
    ex = term.wait_exit(s, 30)
    assert ex["reason"] == f"pod '{name}' was deleted", ex
    assert time.monotonic() - t0 < 20
    ack = term.call("input", {"session": s, "data": "echo too-late\n"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"


def test_container_restarted_mid_session(cluster, term, real_target):
    """The container's main process exits: the session's shell dies with it, the kubelet restarts the
    container, and a new terminal opens in the new one."""
    core = core_api(cluster)
    name = f"restarts-{secrets.token_hex(3)}"
    _pod(cluster, core, name, ["sh", "-c", "trap 'exit 3' TERM; while sleep 0.2; do :; done"])
    try:
        s = term.open(namespace=realpods.NAMESPACE, pod=name)
        shell_pid(term, s)
        term.send(s, "kill 1\n")
        ex = term.wait_exit(s, 30)
        assert (ex["code"], ex["reason"]) == (137, "exited with code 137"), ex   # killed with its container
        deadline = time.monotonic() + 60
        while True:
            st = core.read_namespaced_pod(name, realpods.NAMESPACE).status.container_statuses[0]
            if st.restart_count >= 1 and st.ready:
                break
            assert time.monotonic() < deadline, st
            time.sleep(0.3)
        again = term.open(namespace=realpods.NAMESPACE, pod=name)
        term.send(again, "echo restarted-$((40+2))\n")
        term.wait_for(again, "restarted-42")
    finally:
        core.delete_namespaced_pod(name, realpods.NAMESPACE, grace_period_seconds=0)


def test_closing_the_stream_does_not_end_a_tty_shell_so_the_console_hangs_up(cluster, term, real_target):
    """containerd does not hang up the pty when the exec stream closes: without the console's PID
    hang-up the shell would live on. Proven both ways on the same pod."""
    t = real_target
    raw = stream(core_api(cluster).connect_get_namespaced_pod_exec, t.pod, t.namespace, container=t.container,
                 command=["sh", "-c", "echo PID=$$; exec bash"], stdin=True, stdout=True, stderr=True, tty=True,
                 _preload_content=False)
    out, deadline = "", time.monotonic() + 15
    while "PID=" not in out or "\n" not in out.split("PID=")[1]:
        assert time.monotonic() < deadline, out
        raw.update(timeout=1)
        out += raw.read_stdout() if raw.peek_stdout() else ""
    pid = int(out.split("PID=")[1].split()[0])
    raw.close()
    time.sleep(3)
    try:
        assert t.alive(pid), "the TTY shell ended on its own when its exec stream closed"
    finally:
        t.kubectl("exec", t.pod, "--", "sh", "-c", 'kill -9 "$1"', "sh", str(pid))
    s = term.open(**t.where)
    pid = shell_pid(term, s)
    assert term.call("close", {"session": s})["ok"]
    term.wait_exit(s)
    assert t.wait_dead(pid), "the console's close must hang the shell up"


def test_the_kubelet_refuses_anonymous_requests(cluster, real_target):
    """Webhook authentication and authorization: only the API server's client certificate gets in."""
    import json
    import ssl
    import urllib.error
    import urllib.request
    port = json.loads(cluster.state_file.read_text())["ports"]["kubelet"]
    ctx = ssl.create_default_context(cafile=str(cluster.dir / "pki" / "ca.crt"))   # its cert is from our CA
    with pytest.raises(urllib.error.HTTPError) as anon:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/pods", context=ctx, timeout=10)
    anon.value.close()   # the error holds the response open
    assert anon.value.code == 401
    ctx.load_cert_chain(str(cluster.dir / "pki" / "apiserver-kubelet-client.crt"),
                        str(cluster.dir / "pki" / "apiserver-kubelet-client.key"))
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/pods", context=ctx, timeout=10) as r:
        assert any(p["metadata"]["name"] == "web" for p in json.load(r)["items"])


def test_pods_have_their_own_loopback_only_network(cluster, real_target):
    """The loopback CNI: a pod sees only its own `lo`, and cannot reach the host's API server."""
    import json
    port = json.loads(cluster.state_file.read_text())["ports"]["apiserver"]
    r = real_target.kubectl("exec", "multi", "-c", "sidecar", "--", "sh", "-c",
                            'ls /sys/class/net; nc -z -w 2 127.0.0.1 "$1" && echo REACHED || echo UNREACHABLE',
                            "sh", str(port))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"lo", b"UNREACHABLE"]
