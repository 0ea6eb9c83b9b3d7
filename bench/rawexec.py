"""The baselines: the same commands over a raw exec websocket from Python, and through kubectl."""
from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

from kubernetes import config

from webshell.kube import frames
from webshell.kube.conn import Conn, Target

from .client import MARK, MARK_CMD

log = logging.getLogger(__name__)
KUBECTL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "kubectl"


class RawShell:
    """An interactive shell over one exec websocket (v5, binary), read by its own thread."""

    def __init__(self, kubeconfig: Path, namespace: str = "demo", pod: str = "web-1",
                 container: str | None = None, argv: list[str] | None = None, tty: bool = True):
        api = config.new_client_from_config(str(kubeconfig))
        self.stream = Conn(api, Target("bench", namespace, pod, container or ""), 20).exec(argv or ["sh"], tty=tty)
        self.n = 0
        self.tail = b""
        self.cond = threading.Condition()
        self.closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            frame = self.stream.read()
            if frame is None or frame[0] == frames.ERROR:
                break
            with self.cond:
                self.n += len(frame[1])
                self.tail = (self.tail + frame[1])[-256:]
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def write(self, text: str | bytes) -> None:
        self.stream.write(text.encode() if isinstance(text, str) else text)

    def wait(self, pred, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError("raw exec: condition not met")
                self.cond.wait(left)

    def run_marked(self, command: str, timeout: float) -> tuple[int, float]:
        """Type `command` plus the end marker; (bytes, seconds) until the marker comes back."""
        time.sleep(0.3)
        with self.cond:
            start_n = self.n
        t0 = time.perf_counter()
        self.write(command + MARK_CMD)
        self.wait(lambda s: MARK in s.tail, timeout)
        return self.n - start_n, time.perf_counter() - t0

    def close(self) -> None:
        """End the remote program too: closing the websocket alone does not on kwok."""
        if not self.closed:
            self.write("\x03")         # interrupts a foreground job (or the exec'd cat)
            time.sleep(0.05)           # the interrupt flushes typeahead: type `exit` after it
            self.write("exit\n")
            with self.cond:
                self.cond.wait_for(lambda: self.closed, 3)
        self.stream.close()
        self._reader.join(5)


def kubectl_exec(kubeconfig: Path, command: str, namespace: str = "demo", pod: str = "web-1",
                 timeout: float = 600) -> tuple[int, float]:
    """`kubectl exec POD -- sh -c COMMAND` (no TTY: kubectl needs a terminal on stdin for one);
    (bytes on stdout, wall seconds including kubectl's start)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(KUBECTL), "--kubeconfig", str(kubeconfig), "exec", "-n", namespace, pod,
                             "--", "sh", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    try:
        while time.perf_counter() - t0 < timeout:
            chunk = proc.stdout.read1(1 << 20)
            if not chunk:
                break
            n += len(chunk)
        proc.wait(max(1.0, timeout - (time.perf_counter() - t0)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return n, time.perf_counter() - t0
