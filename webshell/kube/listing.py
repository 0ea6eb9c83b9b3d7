"""List a container directory with `find` + `stat`, parsing output that names may not forge.

Names come back from the container and are untrusted: they may hold newlines, quotes
or escape sequences, but never `/` or NUL, which is what the format relies on.
"""
from __future__ import annotations

import stat
from dataclasses import asdict, dataclass

from ..errors import TransferFailed
from .remote import Conn, Remote, operand

# $1 the directory ("./" before a relative name: `cd -` is not a directory). Prints `list`, the absolute path + NUL, one
# `/MODEHEX/SIZE/MTIME/UID/GID/OWNER:GROUP:./NAME\n` record per entry, NUL, then `./NAME` NUL `TARGET\n` NUL for each
# symlink. Names hold no `/` or NUL; owner and group names (from the container's passwd/group) no `:` or newline.
LIST = r'''
d=$1
need find stat
[ -e "$d" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
[ -d "$d" ] || { printf 'kws:error Not a directory\n'; exit 1; }
[ -r "$d" ] && [ -x "$d" ] || { printf 'kws:error Permission denied\n'; exit 1; }
cd -- "$d" || exit 1
printf 'kws:list\n'; pwd -P; printf '\0'
find . ! -name . -prune -exec stat -c '/%f/%s/%Y/%u/%g/%U:%G:%n' -- {} + 2>/dev/null
printf '\0'
if command -v readlink >/dev/null 2>&1; then
  find . ! -name . -prune -type l -exec sh -c 'for l do printf "%s\0" "$l"; readlink -- "$l"; printf "\0"; done' sh {} + 2>/dev/null
fi
exit 0
'''


@dataclass(frozen=True)
class Entry:
    name: str
    type: str          # file | dir | link | other
    size: int
    mode: str          # like `ls -l`: -rw-r--r--
    mtime: int
    link_target: str | None
    owner: str = ""    # user name, or the number when the container has no name for it
    group: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _kind(raw: int) -> str:
    if stat.S_ISDIR(raw):
        return "dir"
    if stat.S_ISREG(raw):
        return "file"
    if stat.S_ISLNK(raw):
        return "link"
    return "other"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _entry(record: bytes, links: dict[str, str]) -> Entry:
    """One `MODEHEX/SIZE/MTIME/UID/GID/OWNER:GROUP:./NAME` record (without its leading `/` and final newline)."""
    fields = record.split(b"/", 5)
    if len(fields) != 6:
        raise TransferFailed("garbled directory listing from the container")
    mode_hex, size, mtime, uid, gid, rest = fields
    who = rest.split(b":", 2)      # an owner name may hold `/` (no `:`): split it off before the name
    if len(who) != 3 or not who[2].startswith(b"./"):
        raise TransferFailed("garbled directory listing from the container")
    try:
        raw, name = int(mode_hex, 16), _text(who[2][2:])
        owner = _owner(who[0], uid)
        group = _owner(who[1], gid)
        return Entry(name, _kind(raw), int(size), stat.filemode(raw), int(mtime),
                     links.get(name) if stat.S_ISLNK(raw) else None, owner, group)
    except ValueError:
        raise TransferFailed("garbled directory listing from the container") from None


def _owner(name: bytes, number: bytes) -> str:
    """The name, or the number where the container has none (stat says UNKNOWN)."""
    int(number)      # a number, or the record is garbled
    return _text(number if name in (b"", b"UNKNOWN") else name)


def parse(out: bytes, limit: int) -> tuple[str, list[Entry], bool]:
    """(absolute path, entries sorted dirs first, truncated?) from the LIST script's stdout."""
    sections = out.split(b"\0")
    if len(sections) < 3:
        raise TransferFailed("garbled directory listing from the container")
    path = _text(sections[0].rstrip(b"\n"))
    records, link_pairs = sections[1], sections[2:]
    links: dict[str, str] = {}
    for i in range(0, len(link_pairs) - 1, 2):
        name, target = link_pairs[i], link_pairs[i + 1]
        if name.startswith(b"./"):
            links[_text(name[2:])] = _text(target[:-1] if target.endswith(b"\n") else target)
    if records and not (records.startswith(b"/") and records.endswith(b"\n")):
        raise TransferFailed("garbled directory listing from the container")
    # A record ends where the next begins, at `\n/`: a name may hold newlines but never `/`.
    entries = [_entry(record, links) for record in records[1:-1].split(b"\n/")] if records else []
    entries.sort(key=lambda e: (e.type != "dir", e.name))
    return path, entries[:limit], len(entries) > limit


def list_dir(conn: Conn, path: str, limit: int, max_bytes: int) -> tuple[str, list[Entry], bool]:
    """List `path` (the container's working directory when empty)."""
    remote = Remote.start(conn, LIST, [operand(path or ".")], "list", path or ".")
    remote.stream.settimeout(conn.timeout)     # a listing that stops answering ends, it does not hang
    try:
        if remote.line() != b"list":
            raise TransferFailed(f"unexpected answer from the container for '{path}'")
        return parse(remote.until(max_bytes), limit)
    finally:
        remote.close()
