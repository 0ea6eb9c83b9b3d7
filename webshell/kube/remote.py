"""Small `sh` scripts run in a container for file operations, and what they say back.

Every script gets user data (paths, sizes) only as positional arguments and reports
on stdout with `kws:` control lines before any data; stderr is kept (bounded) to
explain failures. `classify` turns what a failed script said into a webshell error.
"""
from __future__ import annotations

import logging

from ..errors import (BadRequest, ClusterUnavailable, Exists, Forbidden, MissingTool, NotFound, StorageError,
                      TransferFailed, WebshellError)
from . import frames
from .conn import Conn
from .execstream import ExecStream

log = logging.getLogger(__name__)
__all__ = ["Conn", "Remote", "classify"]

MARK = b"kws:"
STDERR_KEEP = 4096          # bytes of stderr kept to explain a failure
LINE_MAX = 64 * 1024        # a control line longer than this is a protocol error
# Prelude of every script: English messages, and `need TOOL...` reports the first missing tool.
PRELUDE = ('LC_ALL=C; export LC_ALL; '
           'need() { for t do command -v "$t" >/dev/null 2>&1 || { printf "kws:missing %s\\n" "$t"; exit 127; }; done; }; ')


def operand(path: str) -> str:
    """A path as a command's operand: `./` before a relative one, so `-`, `--`, `-n` are names, not options or stdin."""
    return path if path.startswith("/") else "./" + path


class Remote:
    """One running script: control lines and data from stdout, stderr kept, exit status noted."""

    def __init__(self, stream: ExecStream, what: str, path: str, cluster: str = ""):
        self.stream, self.what, self.path, self.cluster = stream, what, path, cluster
        self.out = frames.ExecOutput(STDERR_KEEP)
        self._buf = self.out.stdout   # control lines and data not yet taken

    @property
    def stderr(self) -> bytearray:
        return self.out.stderr

    @property
    def status(self) -> frames.ExitStatus | None:
        return self.out.status

    @property
    def started(self) -> bool:
        """The script printed something: `sh` exists."""
        return self.out.started

    @classmethod
    def start(cls, conn: Conn, script: str, args: list[str], what: str, path: str,
              stdin: bool = False) -> "Remote":
        if any("\0" in a for a in args):
            raise BadRequest("paths cannot contain NUL characters")
        try:
            stream = conn.exec(["sh", "-c", PRELUDE + script, "sh", *args], tty=False, stdin=stdin)
        except ClusterUnavailable:
            raise ClusterUnavailable(f"cluster '{conn.target.cluster}' is not answering (while trying to {what})") \
                from None
        if conn.idle:
            stream.settimeout(conn.idle)     # a frozen cluster cannot hold the request (and its transfer slot)
        return cls(stream, what, path, conn.target.cluster)

    def pull(self) -> bool:
        """Read one frame into the buffers; False once the stream has ended."""
        return self.stream.read_into(self.out)

    def line(self) -> bytes:
        """The next control line (without `kws:` and newline); raises what the script failed with."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                raw = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                if not raw.startswith(MARK):
                    raise TransferFailed(f"unexpected output from the container while trying to {self.what}")
                if raw.startswith((b"kws:error ", b"kws:missing ", b"kws:symlink ")):
                    while self.pull():       # let the script end, keeping its stderr
                        pass
                    raise self.failure(raw + b"\n")
                return raw[len(MARK):]
            if len(self._buf) > LINE_MAX:
                raise TransferFailed(f"garbled answer from the container while trying to {self.what}")
            if not self.pull():
                raise self.failure()

    def data(self) -> bytes | None:
        """The next stdout bytes after the control lines; None once the script ended."""
        while not self._buf:
            if not self.pull():
                return None
        out = bytes(self._buf)
        self._buf.clear()
        return out

    def until(self, limit: int) -> bytes:
        """Everything left on stdout (at most `limit` bytes) once the script ends successfully."""
        out = bytearray()
        while True:
            chunk = self.data()
            if chunk is None:
                break
            out += chunk
            if len(out) > limit:
                raise TransferFailed(f"the container's answer to '{self.what}' is larger than {limit} bytes")
        if self.status is not None and self.status.failure:
            raise self.failure(bytes(out))
        return bytes(out)

    def write(self, data: bytes) -> bool:
        return self.stream.write(data)

    def failure(self, stdout: bytes = b"") -> WebshellError:
        """The error that explains why the script stopped."""
        if self.stream.timed_out:
            return ClusterUnavailable(f"cluster '{self.cluster}' is not answering (while trying to {self.what}): "
                                      "nothing came for too long")
        text = (bytes(self._buf) + stdout).decode("utf-8", "replace")
        reason = self.status.reason if self.status else "the script stopped"
        return classify(text, self.stderr.decode("utf-8", "replace"), reason, self.what, self.path,
                        self.started)

    def close(self) -> None:
        self.stream.close()


class SymlinkRefused(Forbidden):
    """A folder upload met a symbolic link below its target (`depth`: the how-manieth name)."""

    def __init__(self, message: str, depth: int = 0):
        super().__init__(message)
        self.depth = depth


# (fragment of a message, error class, what to say)
_ERRNO = [
    ("Permission denied", Forbidden, "permission denied"),
    ("Operation not permitted", Forbidden, "operation not permitted"),
    ("Read-only file system", StorageError, "read-only file system"),
    ("No space left on device", StorageError, "no space left on device"),
    ("Disk quota exceeded", StorageError, "disk quota exceeded"),
    ("File too large", StorageError, "file too large for the file system"),
    ("No such file or directory", NotFound, "no such file or directory"),
    ("Directory nonexistent", NotFound, "no such directory"),
    ("Not a directory", NotFound, "a part of the path is not a directory"),
    ("Is a directory", BadRequest, "is a directory"),
    ("File exists", Exists, "a file or folder of that name exists"),
    ("Directory not empty", Exists, "a folder of that name exists and is not empty"),
]


def classify(stdout: str, stderr: str, reason: str, what: str, path: str, started: bool) -> WebshellError:
    """Map a failed script's output to an error with the fitting status (pure, unit-tested)."""
    for line in stdout.splitlines():
        if line.startswith("kws:missing "):
            tool = line.split(" ", 1)[1].strip()[:64]
            return MissingTool(f"cannot {what}: the container has no '{tool}'", tool=tool)
        if line.startswith("kws:symlink "):
            depth = line.split(" ", 1)[1].strip()
            return SymlinkRefused(f"cannot {what} '{path}': a symbolic link is in the way",
                                  int(depth) if depth.isdigit() else 0)
        if line.startswith("kws:error "):
            stderr = line.split(" ", 1)[1] + "\n" + stderr
    if path:
        stderr = stderr.replace(path, "")   # the tools name the path: its text must not decide the error
    for fragment, cls, said in _ERRNO:
        if fragment in stderr:
            return cls(f"cannot {what} '{path}': {said}")
    if not started and any(s in reason for s in ("executable file not found", "no such file or directory",
                                                 "cmd start", "exec failed")):
        return MissingTool(f"cannot {what}: the container has no 'sh' ({reason})", tool="sh")
    detail = stderr.strip().splitlines()[-1][:300] if stderr.strip() else reason
    return TransferFailed(f"cannot {what} '{path}': {detail}")
