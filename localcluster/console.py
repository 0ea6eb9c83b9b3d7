"""The console as a local process, and its HTTP and Socket.IO clients: shared by tests and benchmarks."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import engineio
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "admin-test-password"
# Debian's Chromium, as the browser tests and benchmarks drive it through Playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleServer:
    """`python app.py` (eventlet) on a free port, with its own instance folder."""

    def __init__(self, kubeconfig: Path, instance: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.log_path = instance / "server.log"
        instance.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KWS_PORT": str(self.port),
                    "KWS_INSTANCE_DIR": str(instance), "KWS_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "KWS_POD_CHECK_INTERVAL": "1", "PYTHONUNBUFFERED": "1",
                    **{f"KWS_{k.upper()}": str(v) for k, v in env.items()}}
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The server's argv (the benchmarks run it under a profiler)."""
        return [sys.executable, str(ROOT / "app.py")]

    def start(self) -> "ConsoleServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"console server exited: {self.log()[-3000:]}")
            try:
                requests.get(f"{self.url}/login", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"console server did not start: {self.log()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss(self) -> int:
        """Resident memory of the server process in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def create_user(self, username: str, password: str, admin: bool = False) -> None:
        args = [sys.executable, "-m", "flask", "--app", "webshell", "create-user", username, "--password-stdin"]
        if admin:
            args.append("--admin")
        subprocess.run(args, cwd=ROOT, env=self.env, input=password + "\n", text=True, check=True,
                       capture_output=True)


def csrf_token(http: requests.Session, server: "ConsoleServer") -> str:
    """The CSRF token a logged-in page carries (send it as X-CSRFToken on state-changing requests)."""
    page = http.get(f"{server.url}/").text
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(server: ConsoleServer, username: str = "admin", password: str = ADMIN_PASSWORD) -> requests.Session:
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{server.url}/login").text).group(1)
    r = http.post(f"{server.url}/login", data={"username": username, "password": password, "csrf_token": token},
                  allow_redirects=False)
    assert r.status_code == 302, f"login as {username} failed: {r.status_code}"
    return http


class _InOrderEngineIO(engineio.Client):
    """Handle Engine.IO messages in the reading thread, in the order they arrived.

    python-engineio's client starts a thread per message, so under a flood a binary
    event's attachment can be handled before its header ("Unexpected binary
    attachment") and events can overtake each other (python-socketio #436, #382).
    """

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)

    def _reset(self):
        """Close the websocket too. When the server dies with data of ours unread, the kernel resets
        the connection: websocket-client raises ECONNRESET without closing its socket, and
        python-engineio's read loop resets the client without closing it either. The socket left
        open is then reported by the garbage collector (a ResourceWarning, an error here) in
        whichever later test it happens to run."""
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.shutdown()       # closes the socket at once (a no-op after a normal close)
        super()._reset()


class InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return _InOrderEngineIO

    def _handle_eio_message(self, data):
        """Ignore what arrives once disconnect() has begun in another thread.

        python-socketio's client forgets a half-received binary event when it disconnects
        (`_binary_packet = None`, in the disconnecting thread). An attachment this reading
        thread takes in meanwhile is then parsed as a packet of its own, and the log shows
        `ValueError: invalid literal for int()` for output that merely arrived during the
        test's teardown. engineio marks the client `disconnecting` before that reset.
        """
        if self.eio.state != "connected":
            return None
        return super()._handle_eio_message(data)
