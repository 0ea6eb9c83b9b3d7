"""List a container directory with `find` + `stat`, parsing output that names may not forge.

Names come back from the container and are untrusted: they may hold newlines, quotes
or escape sequences, but never `/` or NUL, which is what the format relies on.
"""
from __future__ import annotations

import stat
from dataclasses import asdict, dataclass

from ..errors import TransferFailed
from .remote import Conn, Remote, operand

# $1 the directory ("./" before a relative name: `cd -` is not a directory). Prints `list`, the absolute path + NUL, one `/MODEHEX/SIZE/MTIME/./NAME\n`
# record per entry, NUL, then `./NAME` NUL `TARGET\n` NUL for each symlink.
LIST = r'''
d=$1
need find stat
[ -e "$d" ] || { printf 'kws:error No such file or directory\n'; exit 1; }
[ -d "$d" ] || { printf 'kws:error Not a directory\n'; exit 1; }
[ -r "$d" ] && [ -x "$d" ] || { printf 'kws:error Permission denied\n'; exit 1; }
cd -- "$d" || exit 1
printf 'kws:list\n'; pwd -P; printf '\0'
find . ! -name . -prune -exec stat -c '/%f/%s/%Y/%n' -- {} + 2>/dev/null
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
    tokens = records.split(b"/")
    entries: list[Entry] = []
    # tokens: "", then per record MODEHEX, SIZE, MTIME, ".", NAME + "\n"
    for i in range(1, len(tokens) - 4, 5):
        mode_hex, size, mtime, dot, name = tokens[i:i + 5]
        if dot != b"." or not name.endswith(b"\n"):
            raise TransferFailed("garbled directory listing from the container")
        try:
            raw = int(mode_hex, 16)
            entry_name = _text(name[:-1])
            entries.append(Entry(entry_name, _kind(raw), int(size), stat.filemode(raw), int(mtime),
                                 links.get(entry_name) if stat.S_ISLNK(raw) else None))
        except ValueError:
            raise TransferFailed("garbled directory listing from the container") from None
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
