"""The container image: built with podman on a Debian base bootstrapped here, run against the cluster."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .helpers import ADMIN_PASSWORD, ROOT, Term, free_port, login, wait_dead
from .test_terminal import shell_pid

PODMAN = [str(ROOT / "deploy" / "image" / "podman.sh")]
UID = 10001


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed: {r.stderr[-3000:]}")
    return r


@pytest.fixture(scope="session")
def image() -> str:
    """deploy/image/build.sh: the base and podman's layers are cached, so a warm build takes seconds."""
    for tool in ("podman", "debootstrap"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            pytest.fail(f"{tool} is missing: `apt-get install podman buildah debootstrap` (./dev test installs them)")
    started = time.monotonic()
    r = subprocess.run([str(ROOT / "deploy" / "image" / "build.sh")], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-5000:]
    tag = r.stdout.strip().splitlines()[-1]
    size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout)
    print(f"\nimage {tag}: {size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f} s")
    return tag


def embedded_kubeconfig(kubeconfig: Path, dest: Path) -> Path:
    """The kubeconfig with its certificate files inlined, readable by the image's non-root user."""
    cfg = json.loads(kubeconfig.read_text())
    for section, keys in (("clusters", ("certificate-authority",)),
                          ("users", ("client-certificate", "client-key"))):
        for entry in cfg[section]:
            body = entry["cluster" if section == "clusters" else "user"]
            for key in keys:
                if key in body:
                    body[f"{key}-data"] = base64.b64encode(Path(body.pop(key)).read_bytes()).decode()
    dest.write_text(json.dumps(cfg))
    dest.chmod(0o644)
    return dest


def test_image_holds_the_runtime_only(image):
    cfg = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert cfg["User"] == f"{UID}:{UID}" and cfg["StopSignal"] == "SIGTERM", cfg
    probe = ("for t in go gcc cc npm node pip; do command -v $t && echo FOUND $t; done; "
             "for m in pytest playwright matplotlib gevent psutil; do "
             "python -c \"import $m\" 2>/dev/null && echo FOUND $m; done; "
             "test -e /app/tests -o -e /app/bench -o -e /app/localcluster && echo FOUND dev; "
             "python -c 'import webshell, kubernetes, eventlet, prometheus_client' && echo RUNTIME-OK; "
             "cd /app && python -c 'from webshell import vendor; "
             "print(*(\"MISSING \" + r for r in vendor.ASSETS.values() if not (vendor.NODE_MODULES / r).is_file()))'")
    out = podman("run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", probe).stdout
    assert "FOUND" not in out and "MISSING" not in out and "RUNTIME-OK" in out, out


def test_image_serves_terminals_read_only_and_hangs_up_on_stop(image, cluster, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, UID, UID)
    kube = embedded_kubeconfig(cluster.admin_kubeconfig, tmp_path / "kubeconfig")
    port = free_port()
    name = f"kws-test-{port}"
    podman("run", "-d", "--name", name, "--network", "host", "--read-only", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", "-v", f"{data}:/var/lib/kube-webshell",
           "-v", f"{kube}:/etc/kube-webshell/kubeconfig:ro",
           "-e", "KWS_HOST=127.0.0.1", "-e", f"KWS_PORT={port}", "-e", f"KWS_ADMIN_PASSWORD={ADMIN_PASSWORD}",
           "-e", "KWS_KUBECONFIG=/etc/kube-webshell/kubeconfig", image)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        logs = podman("logs", name, check=False)
        ready = requests.get(f"{url}/readyz", timeout=5)
        assert ready.json()["clusters"] == {"kws-local": "ok"}, logs.stdout[-2000:] + logs.stderr[-2000:]

        class Srv:   # what login() and Term need of a server
            pass
        srv = Srv()
        srv.url = url
        t = Term(srv, login(srv))
        sid = t.open()
        t.send(sid, "echo image-$((40+2))\n")
        t.wait_for(sid, "image-42")
        pid = shell_pid(t, sid)
        assert (data / "webshell.db").exists() and (data / "secret_key").exists()

        started = time.monotonic()
        podman("stop", "-t", "30", name, timeout=60)
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0 and time.monotonic() - started < 25, state
        assert wait_dead(pid), "stopping the container must hang up every shell"
        logs = podman("logs", name)
        assert "closing every terminal" in logs.stderr + logs.stdout
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
