"""Debian's HAProxy in front of console replicas, with cookie affinity, on 127.0.0.1."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import requests

from . import procs
from .console import free_port

COOKIE = "KWS_REPLICA"   # the affinity cookie; its value is the replica's name (KWS_REPLICA_NAME)

CONFIG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option http-server-close
    option redispatch
frontend console
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    cookie {cookie} insert indirect nocache
    option httpchk GET /healthz
{servers}
"""


class HAProxy:
    """`haproxy -db` balancing `backends` ({name: port}) with an inserted affinity cookie."""

    def __init__(self, folder: Path, backends: dict[str, int]):
        self.folder, self.backends, self.port = folder, backends, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} cookie {name} check inter 500ms fall 2 rise 1"
                            for name, port in self.backends.items())
        return CONFIG.format(port=self.port, cookie=COOKIE, servers=servers)

    def start(self) -> "HAProxy":
        exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(exe).exists():
            raise RuntimeError("haproxy is missing: `apt-get install haproxy` (./dev test installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = self.folder / "haproxy.cfg"
        cfg.write_text(self.config())
        check = subprocess.run([exe, "-c", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"haproxy refused its configuration: {check.stdout}{check.stderr}")
        log = open(self.folder / "haproxy.log", "ab")
        self.proc = subprocess.Popen([exe, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log()[-2000:]}")
            try:
                if requests.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"haproxy did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        p = self.folder / "haproxy.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        procs.stop(self.proc)
