"""Stream a container file (with ranges and resuming retries) or a directory as a tar archive."""
from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Callable, Iterator

from ..errors import TransferFailed, WebshellError
from .remote import Conn, Remote, operand

log = logging.getLogger(__name__)

# Error lines never carry the path (it may hold a newline): the server knows which path it asked for.
# $1 the file ("./" before a relative name: `-` is no stdin). Says `dir` for a directory, else `file SIZE MTIME`, then reads "START LENGTH"
# from stdin and sends those bytes.
READ_FILE = r'''
f=$1
need stat head tail
if [ -d "$f" ]; then printf 'kws:dir\n'; exit 0; fi
[ -e "$f" ] || [ -L "$f" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
st=$(stat -L -c '%s %Y' -- "$f") || exit 1
[ -f "$f" ] || { printf 'kws:error not a regular file\n'; exit 1; }
[ -r "$f" ] || { printf 'kws:error Permission denied\n'; exit 1; }
printf 'kws:file %s\n' "$st"
read -r s n || exit 1
[ "$n" -gt 0 ] || exit 0
if [ "$s" -gt 0 ]; then tail -c +"$((s + 1))" -- "$f" | head -c "$n"; else head -c "$n" -- "$f"; fi
'''
# $1 parent directory, $2 entry to archive ("./name" or "."), $3 "1" for gzip. A symlink to a
# directory is archived as its target's contents.
TAR = r'''
need tar
[ "$3" = 1 ] && need gzip
cd -- "$1" || exit 1
if [ -L "$2" ] && [ -d "$2" ]; then cd -- "$2" || exit 1; set -- "$1" . "$3"; fi
[ -r "$2" ] || { printf 'kws:error Permission denied\n'; exit 1; }
printf 'kws:tar\n'
if [ "$3" = 1 ]; then exec tar -czf - -- "$2"; else exec tar -cf - -- "$2"; fi
'''


@dataclass(frozen=True)
class FileInfo:
    size: int
    mtime: str


class Download:
    """An opened file download: `info` is known before the first byte is sent."""

    def __init__(self, conn: Conn, path: str, retries: int):
        self.conn, self.path, self.retries = conn, path, retries
        self.remote: Remote | None = None
        self.info: FileInfo | None = None     # None: `path` is a directory

    def open(self) -> "Download":
        self.remote, self.info = self._start()
        if self.info is None:
            self.remote.close()
            self.remote = None
        return self

    def _start(self) -> tuple[Remote, FileInfo | None]:
        remote = Remote.start(self.conn, READ_FILE, [operand(self.path)], "download", self.path, stdin=True)
        try:
            head = remote.line().split()
            if head == [b"dir"]:
                return remote, None
            if len(head) != 3 or head[0] != b"file" or not head[1].isdigit():
                raise TransferFailed(f"unexpected answer from the container for '{self.path}'")
            return remote, FileInfo(int(head[1]), head[2].decode("ascii", "replace"))
        except WebshellError:
            remote.close()
            raise

    def stream(self, start: int, length: int, on_done: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """Yield bytes [start, start+length); on a cut, reopen and resume up to `retries` times.

        Raises TransferFailed after the last attempt: the caller's response is then aborted,
        so the client sees an error instead of a silently short file.
        """
        sent, attempt = 0, 0
        remote = self.remote
        if length <= 0:
            self.cancel()
            remote = None
        try:
            while sent < length:
                if remote is None:
                    attempt += 1
                    if attempt > self.retries:
                        raise TransferFailed(f"download of '{self.path}' failed after {sent} of {length} bytes")
                    remote = self._resume()
                    if remote is None:
                        continue
                remote.write(f"{start + sent} {length - sent}\n".encode())
                got = self._pump(remote, length - sent)
                for chunk in got:
                    sent += len(chunk)
                    yield chunk
                if sent < length:
                    log.warning("download cut: target=%s path=%s at %s/%s (attempt %s): %s",
                                self.conn.target, self.path, sent, length, attempt + 1,
                                "nothing came within KWS_TRANSFER_IDLE_TIMEOUT" if remote.stream.timed_out
                                else "the stream ended")
                    remote.close()
                    remote = None
        finally:
            if remote is not None:
                remote.close()
            self.remote = None
            if on_done:
                on_done(sent)

    def cancel(self) -> None:
        """Tell the waiting script to send nothing, and close (it must not linger on stdin)."""
        if self.remote is not None:
            self.remote.write(b"0 0\n")
            self.remote.close()
            self.remote = None

    def _resume(self) -> Remote | None:
        """Reopen for a retry; refuse to resume a file that changed meanwhile."""
        try:
            remote, info = self._start()
        except WebshellError as e:
            log.warning("download retry failed: target=%s path=%s: %s", self.conn.target, self.path, e)
            return None
        if info != self.info:
            remote.close()
            raise TransferFailed(f"'{self.path}' changed during the download")
        return remote

    @staticmethod
    def _pump(remote: Remote, want: int) -> Iterator[bytes]:
        got = 0
        while got < want:
            chunk = remote.data()
            if chunk is None:
                return
            chunk = chunk[:want - got]
            got += len(chunk)
            yield chunk


def archive(conn: Conn, path: str, gzip: bool) -> Iterator[bytes]:
    """Start `tar` on a directory; the first call checks it runs, then the archive streams.

    A failure mid-way (an unreadable file...) raises, so the response is aborted.
    """
    parent, entry = archive_entry(path)
    remote = Remote.start(conn, TAR, [operand(parent), entry, "1" if gzip else "0"], "archive", path)
    try:
        if remote.line() != b"tar":
            raise TransferFailed(f"unexpected answer from the container for '{path}'")
    except WebshellError:
        remote.close()
        raise
    return _archive_body(remote, path)


def archive_entry(path: str) -> tuple[str, str]:
    """(directory to `cd` into, entry to archive): `dir/name` -> (dir, ./name); `/`, `.`, `..` -> (path, .)."""
    trimmed = path.rstrip("/") or "/"
    parent, base = posixpath.split(trimmed)
    if base in ("", ".", ".."):
        return trimmed, "."
    return parent or ".", f"./{base}"


def _archive_body(remote: Remote, path: str) -> Iterator[bytes]:
    try:
        while True:
            chunk = remote.data()
            if chunk is None:
                break
            yield chunk
        if remote.status is None or remote.status.failure:
            err = remote.failure()
            log.warning("archive of %s failed mid-stream: %s", path, err.message)
            raise TransferFailed(f"archive of '{path}' failed: {err.message}")
    finally:
        remote.close()
