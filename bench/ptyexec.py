"""The baseline a person at a terminal gets: `kubectl exec -it POD -- sh` under a pty of our own.

kubectl wants a terminal on stdin for `-t`; the stdlib `os.openpty` gives it one. kubectl puts
that terminal in raw mode, so nothing is echoed locally: every byte read back from the pty's
master side came from the container (its pty's echo). Same interface as `rawexec.RawShell`
(n, tail, cond, write, wait, close), so that the latency benchmark types into both alike.
"""
from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

from .rawexec import KUBECTL


class KubectlShell:
    """One `kubectl exec -it` process on a pty, its output read by a thread of its own."""

    def __init__(self, kubeconfig: Path, namespace: str = "demo", pod: str = "web-1",
                 argv: list[str] | None = None, start_timeout: float = 60.0):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        try:
            self.proc = subprocess.Popen(
                [str(KUBECTL), "--kubeconfig", str(kubeconfig), "exec", "-it", "-n", namespace, pod,
                 "--", *(argv or ["sh"])],
                stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.n = 0
        self.tail = b""
        self.cond = threading.Condition()
        self.closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:   # kubectl has set raw mode and streams once the shell's prompt arrives
            self.wait(lambda s: s.n > 0, start_timeout)
        except TimeoutError:
            self.close()
            raise

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:      # EIO: kubectl has exited and the pty's last user is gone
                chunk = b""
            if not chunk:
                break
            with self.cond:
                self.n += len(chunk)
                self.tail = (self.tail + chunk)[-256:]
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def write(self, text: str | bytes) -> None:
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def wait(self, pred, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise TimeoutError(f"kubectl exec -it: condition not met (exit {self.proc.poll()})")
                self.cond.wait(left)

    def close(self) -> None:
        """Ctrl-C ends the exec'd cat (or a foreground job), `exit` the shell; kubectl then exits."""
        try:
            if self.proc.poll() is None:
                self.write("\x03")
                time.sleep(0.05)
                self.write("exit\n")
                self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(5)
            os.close(self.master)
