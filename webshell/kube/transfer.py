"""Upload a stream of known length into a container file, verified before it appears.

The script writes to a temporary name beside the destination with `head -c SIZE`
(the container never needs stdin EOF), reports byte count and sha256, and renames
into place only when the server answers `commit`. When the client goes away mid-way,
a second exec kills the writer and removes the temporary: nothing is left behind.
"""
from __future__ import annotations

import hashlib
import logging
import posixpath
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Iterable

from ..errors import BadRequest, TransferFailed, WebshellError
from .remote import Conn, Remote, SymlinkRefused, operand

log = logging.getLogger(__name__)

# $1 destination, $2 temporary (same directory), $3 size, $4 "1" to create the directory (mkdir -p),
# "2" for a part of a folder upload, $5 the directory; for "2", $6 the upload's target directory and
# $7 the part's directory below it. A folder part walks down from the target one name at a time,
# creating what is missing and refusing any symbolic link on the way or at the destination
# (`kws:symlink N`: the Nth name below the target), so it never writes outside the target.
# The writer is `head -c SIZE`, started through `sh -c` so that it can announce its own PID
# (`exec` keeps it) on fd 5 while its output goes to the file. Where the container has
# `sha256sum` and `tee`, the stream is hashed while it is written, in one pass.
UPLOAD = r'''
dest=$1 tmp=$2 size=$3 dir=$5
need head mv rm wc
if [ "$4" = 1 ]; then need mkdir; mkdir -p -- "$dir" || exit 1; fi
if [ "$4" = 2 ]; then
  p=$6 rest=$7 i=0
  while [ -n "$rest" ]; do
    c=${rest%%/*}; if [ "$c" = "$rest" ]; then rest=; else rest=${rest#*/}; fi
    p=$p/$c; i=$((i + 1))
    [ -L "$p" ] && { printf 'kws:symlink %s\n' "$i"; exit 1; }
    if [ ! -e "$p" ]; then need mkdir; mkdir -- "$p" || exit 1; fi
    [ -d "$p" ] || { printf 'kws:error Not a directory\n'; exit 1; }
  done
  [ -L "$dest" ] && { printf 'kws:symlink %s\n' "$((i + 1))"; exit 1; }
fi
[ -e "$dir" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
[ -d "$dir" ] || { printf 'kws:error Not a directory\n'; exit 1; }
[ -d "$dest" ] && { printf 'kws:error Is a directory\n'; exit 1; }
: > "$tmp" || exit 1
exec 3<&0 4>&1
writer='printf "kws:pid %s %s\n" "$1" "$$" >&5; exec head -c "$2"'
has() { command -v "$1" >/dev/null 2>&1; }
if has sha256sum && has tee; then
  h=$(sh -c "$writer" sh "$$" "$size" <&3 5>&4 | tee -- "$tmp" | sha256sum) || { rm -f -- "$tmp"; exit 1; }
  h=${h%% *}
else
  sh -c "$writer" sh "$$" "$size" <&3 5>&4 >"$tmp" || { rm -f -- "$tmp"; exit 1; }
  h=-
  if has sha256sum; then h=$(sha256sum <"$tmp") && h=${h%% *}; fi
fi
n=$(wc -c <"$tmp") || { rm -f -- "$tmp"; exit 1; }
printf 'kws:done %s %s\n' $n "$h"
# A short file means the writer died: what follows on stdin is the rest of the body, not a verdict.
[ "$n" = "$size" ] || { rm -f -- "$tmp"; exit 1; }
read -r verdict <&3
if [ "$verdict" = commit ] && mv -f -- "$tmp" "$dest"; then printf 'kws:ok\n'; exit 0; fi
rm -f -- "$tmp"; exit 1
'''
# $1 shell pid, $2 writer pid, $3 temporary: stop the writer, then remove its file.
CLEANUP = r'''
kill "$2" 2>/dev/null; kill "$1" 2>/dev/null
i=0; while kill -0 "$2" 2>/dev/null && [ "$i" -lt 20 ]; do i=$((i+1)); sleep 0.1 2>/dev/null || break; done
kill -9 "$2" "$1" 2>/dev/null; rm -f -- "$3"; exit 0
'''


@dataclass(frozen=True)
class Uploaded:
    path: str
    size: int
    sha256: str
    verified: bool       # the container's sha256sum agreed (False: byte count only)

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def check_relative(rel: str) -> str:
    """A relative path from a folder upload, refused if it could leave its destination."""
    parts = rel.split("/")
    if not rel or "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BadRequest(f"invalid relative path in upload: {rel[:200]!r}")
    return "/".join(parts)


def temp_name(dest: str) -> str:
    directory, base = posixpath.split(dest)
    name = f".{base[:100]}.kws-{secrets.token_hex(6)}.part"
    return posixpath.join(directory, name) if directory else name


@dataclass(frozen=True)
class Timing:
    """How long a failing writer's message may take to end (`settle`), how often the watch looks (`poll`)."""

    settle: float
    poll: float

    @classmethod
    def from_config(cls, cfg) -> "Timing":
        return cls(settle=cfg["STDERR_SETTLE"], poll=cfg["POLL_INTERVAL"])


def upload(conn: Conn, dest: str, size: int, chunks: Iterable[bytes], timing: Timing, mkdirs: bool = False,
           below: str | None = None) -> Uploaded:
    """Write exactly `size` bytes from `chunks` to `dest`; raise unless verified and renamed.

    `below`: `dest` is a part of a folder upload into that directory; missing directories
    are created and no symbolic link below it is followed (SymlinkRefused names the link).
    """
    if not dest or dest.endswith("/"):
        raise BadRequest("the destination must be a file path")
    directory = posixpath.dirname(dest) or "."
    tmp = temp_name(dest)
    what = "upload to"
    args = [operand(dest), operand(tmp), str(size), "1" if mkdirs else "0", operand(directory)]
    rel = ""
    if below is not None:
        base = below.rstrip("/") or "/"
        rel = check_relative(dest[len(base.rstrip("/")) + 1:])
        args[3:] = ["2", operand(directory), operand(base), posixpath.dirname(rel)]
    try:
        return _upload(conn, dest, size, chunks, tmp, args, what, timing)
    except SymlinkRefused as e:
        link = "/".join(rel.split("/")[:e.depth]) or rel
        raise SymlinkRefused(f"refused '{rel}': '{link}' below '{below}' is a symbolic link, and a folder "
                             f"upload never follows one; nothing was written for this file", e.depth) from None


def _upload(conn: Conn, dest: str, size: int, chunks: Iterable[bytes], tmp: str, args: list[str],
            what: str, timing: Timing) -> Uploaded:
    remote = Remote.start(conn, UPLOAD, args, what, dest, stdin=True)
    pids: list[str] = []
    try:
        parts = remote.line().split()
        if len(parts) != 3 or parts[0] != b"pid" or not all(p.isdigit() for p in parts[1:]):
            raise TransferFailed("unexpected answer from the container before the upload")
        pids = [p.decode() for p in parts[1:]]
        digest = _send(remote, size, chunks, timing)
        done = remote.line().split()
        if len(done) != 3 or done[0] != b"done":
            raise TransferFailed("unexpected answer from the container after the upload")
        count, theirs = done[1], done[2].decode("ascii", "replace")
        verified = theirs != "-"
        if count != str(size).encode() or (verified and theirs != digest):
            remote.write(b"abort\n")
            raise TransferFailed(f"upload to '{dest}' failed verification: the container got {count.decode()} "
                                 f"bytes, sha256 {theirs} (sent {size}, {digest}); nothing was written")
        remote.write(b"commit\n")
        if remote.line() != b"ok":
            raise TransferFailed(f"cannot rename the upload into place at '{dest}'")
        pids = []
        return Uploaded(dest, size, digest, verified)
    except WebshellError as e:
        if pids:
            e = _better(remote, e)
        raise e from None
    finally:
        remote.close()
        if pids:
            _cleanup(conn, pids, tmp)


def _send(remote: Remote, size: int, chunks: Iterable[bytes], timing: Timing) -> str:
    """Stream the body; stop early (and raise) if the container's writer fails meanwhile."""
    h = hashlib.sha256()
    sent = 0
    failed = _watch(remote, timing)
    try:
        for chunk in chunks:
            if not chunk:
                continue
            if sent + len(chunk) > size:
                raise BadRequest(f"the upload is longer than the announced {size} bytes")
            if failed.is_set() or not remote.write(chunk):
                failed.stop()
                raise remote.failure()
            h.update(chunk)
            sent += len(chunk)
    finally:
        failed.stop()
    if sent != size:
        raise TransferFailed(f"the upload was cut after {sent} of {size} bytes; nothing was written")
    return h.hexdigest()


class _Watch(threading.Event):
    """Set when the script ends while the body is still being sent."""

    def __init__(self):
        super().__init__()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def stop(self) -> None:
        """Stop watching and wait for the reader, so that the caller owns the stream again."""
        self.stopped.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join()


def _watch(remote: Remote, timing: Timing) -> _Watch:
    """While sending, one reader notices a writer that died (disk full) and sees its answer."""
    ev = _Watch()

    def run() -> None:
        # Only a failing script prints before the body is complete; stop reading once `done` may come.
        since = 0.0               # when stderr began: the rest of its line may be a frame behind
        while not ev.stopped.is_set():
            if remote.status is not None or (remote.stderr and (
                    remote.stderr.endswith(b"\n") or time.monotonic() - since > timing.settle)):
                ev.set()
                return
            if not remote.stream.readable_now():
                ev.stopped.wait(timing.poll)
                continue
            if not remote.pull():         # this reader owns the stream while the body is sent
                ev.set()
                return
            if remote.stderr and not since:
                since = time.monotonic()
    ev.thread = threading.Thread(target=run, daemon=True, name="kws-upload-watch")
    ev.thread.start()
    return ev


def _better(remote: Remote, err: WebshellError) -> WebshellError:
    """Prefer what the container said (disk full...) over a generic transfer error."""
    if remote.stderr and type(err) is TransferFailed:
        return remote.failure()
    return err


def _cleanup(conn: Conn, pids: list[str], tmp: str) -> None:
    """Stop an unfinished upload's writer and remove its temporary (best effort, logged)."""
    try:
        r = Remote.start(conn, CLEANUP, [*pids, operand(tmp)], "clean up an upload", tmp)
        r.until(1024)
        r.close()
        log.info("upload cleaned up: target=%s tmp=%s", conn.target, tmp)
    except WebshellError as e:
        log.warning("upload cleanup failed: target=%s tmp=%s: %s", conn.target, tmp, e)
