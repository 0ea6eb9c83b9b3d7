"""Debian's redis-server as a local process on 127.0.0.1 (no persistence), for the replica tests."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from . import procs
from .console import free_port


class RedisServer:
    """`redis-server` on a free loopback port with its own folder; `url` for KWS_MESSAGE_QUEUE."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(exe).exists():
            raise RuntimeError("redis-server is missing: `apt-get install redis-server` (./dev test installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "redis.log", "ab")
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder), "--protected-mode", "yes"],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log()[-2000:]}")
            try:
                if self.client().ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start: {self.log()[-2000:]}")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def log(self) -> str:
        p = self.folder / "redis.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        procs.stop(self.proc)
