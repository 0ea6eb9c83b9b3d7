"""New folder, rename and delete in a container: one small `sh` script each, paths only as positional arguments.

Each script prints `kws:ok` when done, or `kws:error MESSAGE` (English, LC_ALL=C) that
remote.classify turns into the fitting error. Nothing is overwritten: a rename onto a
name that exists is refused, never merged into a directory of that name.
"""
from __future__ import annotations

import posixpath

from ..errors import BadRequest, TransferFailed
from .remote import Conn, Remote, operand

# $1 the new directory.
MKDIR = r'''
need mkdir
[ -e "$1" ] || [ -L "$1" ] && { printf 'kws:error File exists\n'; exit 1; }
mkdir -- "$1" || exit 1
printf 'kws:ok\n'
'''
# $1 the entry, $2 its new path (same directory).
RENAME = r'''
need mv
[ -e "$1" ] || [ -L "$1" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
[ -e "$2" ] || [ -L "$2" ] && { printf 'kws:error File exists\n'; exit 1; }
mv -- "$1" "$2" || exit 1
printf 'kws:ok\n'
'''
# $1 the entry: a file, a symbolic link (never what it points to) or a whole directory.
DELETE = r'''
need rm
[ -e "$1" ] || [ -L "$1" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
rm -rf -- "$1" || exit 1
[ -e "$1" ] || [ -L "$1" ] && { printf 'kws:error Permission denied\n'; exit 1; }
printf 'kws:ok\n'
'''


def check_path(path: str) -> str:
    """A path that names one entry: not empty, not `/`, not ending in `.` or `..` (pure, unit-tested)."""
    if not path or "\0" in path:
        raise BadRequest("the `path` query parameter is required" if not path else "paths cannot contain NUL characters")
    trimmed = path.rstrip("/")
    if not trimmed:
        raise BadRequest("the root directory cannot be changed")
    if posixpath.basename(trimmed) in (".", ".."):
        raise BadRequest("name the entry itself, not `.` or `..`")
    return trimmed


def check_name(name: str) -> str:
    """A new name for an entry: one name, no `/` (pure, unit-tested)."""
    if not name:
        raise BadRequest("the new name is empty")
    if "/" in name or "\0" in name:
        raise BadRequest("a name cannot contain `/` or NUL characters")
    if name in (".", ".."):
        raise BadRequest("`.` and `..` are not names")
    if len(name.encode()) > 255:
        raise BadRequest("the name is longer than 255 bytes")
    return name


def _run(conn: Conn, script: str, args: list[str], what: str, path: str) -> None:
    remote = Remote.start(conn, script, [operand(a) for a in args], what, path)
    remote.stream.settimeout(conn.timeout)
    try:
        if remote.line() != b"ok":
            raise TransferFailed(f"unexpected answer from the container while trying to {what}")
    finally:
        remote.close()


def mkdir(conn: Conn, path: str) -> str:
    path = check_path(path)
    _run(conn, MKDIR, [path], "create the folder", path)
    return path


def rename(conn: Conn, path: str, name: str) -> str:
    """Rename `path` to `name` in the same directory; returns the new path."""
    path, name = check_path(path), check_name(name)
    head = posixpath.dirname(path)
    dest = posixpath.join(head, name) if head else name
    _run(conn, RENAME, [path, dest], "rename", path)
    return dest


def delete(conn: Conn, path: str) -> str:
    path = check_path(path)
    _run(conn, DELETE, [path], "delete", path)
    return path
