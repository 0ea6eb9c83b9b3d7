"""Start a shell whose PID the console learns, and hang it up when the terminal closes.

Closing an exec stream does not end the remote process on every runtime (kwok never
cancels it; containerd keeps it too: kubernetes#89031). So the shell starts through a
tiny `sh` script that announces its PID in an OSC escape sequence (which terminals
ignore) before `exec`-ing the shell, and closing sends that PID a hangup through a
second exec. User data travels only as positional arguments.
"""
from __future__ import annotations

import logging
import re
import time

from . import frames
from .conn import Conn

log = logging.getLogger(__name__)

# $@: candidate shells, first found wins.
PICK_SHELL = ('for s do if command -v "$s" >/dev/null 2>&1; then '
              'printf "\\033]kws;%s;%s\\007" "$$" "$s"; exec "$s"; fi; done; '
              'echo "no shell found (tried: $*)"; exit 127')
# $@: the command to run.
RUN_COMMAND = 'printf "\\033]kws;%s;%s\\007" "$$" "$1"; exec "$@"'
# $1: the PID, $2: tenths of a second to wait after SIGHUP. SIGHUP (as a terminal hangup
# would), then SIGKILL if it lingers.
HANG_UP = ('kill -HUP "$1" 2>/dev/null || exit 0; i=0; '
           'while kill -0 "$1" 2>/dev/null && [ "$i" -lt "$2" ]; do i=$((i+1)); sleep 0.1 2>/dev/null || break; done; '
           'kill -KILL "$1" 2>/dev/null; exit 0')

ANNOUNCE = re.compile(rb"\x1b\]kws;(\d+);([^\x07\x1b]{1,256})\x07")


def wrapped(shells: list[str] | None, command: list[str] | None) -> list[str]:
    """The argv that starts a shell (from `shells`) or `command` and announces its PID."""
    if command is not None:
        return ["sh", "-c", RUN_COMMAND, "sh", *command]
    return ["sh", "-c", PICK_SHELL, "sh", *(shells or [])]


def parse_announcement(data: bytes) -> tuple[int | None, str | None, bytes]:
    """Find the PID announcement; return (pid, program, data without it)."""
    m = ANNOUNCE.search(data)
    if not m:
        return None, None, data
    return int(m.group(1)), m.group(2).decode("utf-8", "replace"), data[:m.start()] + data[m.end():]


def hang_up(conn: Conn, pid: int, grace: float) -> bool:
    """End process `pid` in the container (SIGHUP, SIGKILL after `grace` s); True when the script ran to its end."""
    deadline = time.monotonic() + conn.timeout + grace
    try:
        stream = conn.exec(["sh", "-c", HANG_UP, "sh", str(pid), str(max(1, round(grace * 10)))],
                           tty=False, stdin=False)
    except Exception as e:  # noqa: BLE001 - best effort; the caller logs
        log.warning("hang-up of pid %s in %s failed to start: %s", pid, conn.target, e)
        return False
    stream.settimeout(max(deadline - time.monotonic(), 0.05))   # a frozen API server cannot hold it longer
    out = frames.ExecOutput()
    try:
        while time.monotonic() < deadline and stream.read_into(out):
            pass
    finally:
        stream.close()
    return out.status is not None and not out.status.failure
