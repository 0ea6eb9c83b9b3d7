"""Terminal recordings in asciicast v2, on disk with a size cap per file, in total, and by age.

One file per session, `<session id>.cast`: a JSON header line, then one JSON event per
line, `[seconds, "o", text]` for output, `"r"` for resizes and, only when configured,
`"i"` for input (keystrokes carry typed passwords: off by default).

Events are buffered in memory and written out every `flush_seconds` (and at once past
64 KiB, at the end of the session, and before the file is listed or served), as tlog's
`latency` does: a write and a flush per output batch were a tenth of a millisecond of every
keystroke's echo. What a crash of the server loses is the last `flush_seconds` of each live
recording; `flush_seconds=0` writes every event through.
"""
from __future__ import annotations

import codecs
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
SUFFIX = ".cast"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class RecordingLimits:
    max_bytes: int          # one recording
    max_total_bytes: int    # the whole folder
    retention_seconds: float
    record_input: bool
    flush_seconds: float = 1.0   # 0: write every event through


FLUSH_BYTES = 64 * 1024   # buffered past this, a recording is written at once


class Recording:
    """One session's cast file; writes are cheap and stop at the size cap."""

    def __init__(self, path: Path, fh: IO[str], max_bytes: int, record_input: bool, flush_seconds: float = 0.0):
        self.path, self._fh = path, fh
        self.max_bytes, self.record_input, self.flush_seconds = max_bytes, record_input, flush_seconds
        self._start = self._pending_since = time.monotonic()
        self._size = 0
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._decoders = {"o": codecs.getincrementaldecoder("utf-8")("replace"),
                          "i": codecs.getincrementaldecoder("utf-8")("replace")}
        self._lock = threading.Lock()
        self.truncated = False
        self.closed = False

    def _line(self, obj) -> None:
        line = json.dumps(obj, ensure_ascii=False) + "\n"
        self._write(line, len(line.encode("utf-8")))

    def _write(self, line: str, n: int) -> None:
        self._size += n
        now = time.monotonic()
        if not self._pending:
            self._pending_since = now
        self._pending.append(line)
        self._pending_bytes += n
        if (self._pending_bytes >= FLUSH_BYTES or self.flush_seconds <= 0
                or now - self._pending_since >= self.flush_seconds):   # the flusher is late
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = "".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        try:
            self._fh.write(data)
            self._fh.flush()
        except OSError:
            log.exception("recording %s: write failed; recording stops", self.path.name)
            self.truncated = True

    @property
    def size(self) -> int:
        """Bytes recorded so far, written or still buffered."""
        return self._size

    def flush(self) -> None:
        """Write what is buffered."""
        with self._lock:
            if not self.closed:
                self._flush()

    def header(self, cols: int, rows: int, meta: dict) -> None:
        with self._lock:
            self._line({"version": 2, "width": cols, "height": rows, "timestamp": int(time.time()),
                        "title": meta.get("title", ""), "env": {"TERM": "xterm-256color"}, "kws": meta})
            self._flush()   # the header is read back at once (listing, replay page)

    def event(self, kind: str, data: bytes) -> None:
        """Add an output ("o"), input ("i", only when configured) or resize ("r", b"COLSxROWS") event."""
        if kind == "i" and not self.record_input:
            return
        with self._lock:
            if self.closed or self.truncated:
                return
            text = self._decoders[kind].decode(data) if kind in self._decoders else data.decode("ascii", "replace")
            if not text:
                return
            elapsed = round(time.monotonic() - self._start, 6)
            line = json.dumps([elapsed, kind, text], ensure_ascii=False) + "\n"
            n = len(line.encode("utf-8"))
            if self._size + n > self.max_bytes:
                self.truncated = True
                self._line([elapsed, "o", "\r\n[kube-webshell: recording stopped at its size limit]\r\n"])
                self._flush()
                log.warning("recording %s reached its limit of %s bytes", self.path.name, self.max_bytes)
                return
            self._write(line, n)

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self._flush()
            self.closed = True
            try:
                self._fh.close()
            except OSError:
                log.exception("closing recording %s failed", self.path.name)


class RecordingStore:
    """The recordings folder: start new recordings, list, find, and prune by age and total size."""

    def __init__(self, directory: Path, limits: RecordingLimits):
        self.directory, self.limits = Path(directory), limits
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._live: dict[str, Recording] = {}
        self._lock = threading.Lock()

    def start(self, session_id: str, cols: int, rows: int, meta: dict) -> Recording:
        if not _ID.match(session_id):
            raise ValueError("bad session id")
        self.prune(room=self.limits.max_bytes)
        path = self.directory / f"{session_id}{SUFFIX}"
        fh = open(path, "x", encoding="utf-8")   # noqa: SIM115 - the Recording owns it
        path.chmod(0o600)
        rec = Recording(path, fh, self.limits.max_bytes, self.limits.record_input, self.limits.flush_seconds)
        rec.header(cols, rows, meta)
        with self._lock:
            self._live[session_id] = rec
        return rec

    def finish(self, session_id: str) -> None:
        with self._lock:
            rec = self._live.pop(session_id, None)
        if rec is not None:
            rec.close()

    def flush(self, session_id: str | None = None) -> None:
        """Write what live recordings (or the one of `session_id`) have buffered."""
        with self._lock:
            live = list(self._live.values()) if session_id is None else [self._live.get(session_id)]
        for rec in live:
            if rec is not None:
                rec.flush()

    def path(self, session_id: str) -> Path | None:
        """The file of a recording, or None (ids are checked: no path tricks)."""
        if not isinstance(session_id, str) or not _ID.match(session_id):
            return None
        p = self.directory / f"{session_id}{SUFFIX}"
        return p if p.is_file() else None

    def header(self, session_id: str) -> dict:
        p = self.path(session_id)
        if p is None:
            return {}
        try:
            with open(p, encoding="utf-8") as f:
                return json.loads(f.readline() or "{}")
        except (OSError, ValueError):
            return {}

    def list(self) -> list[dict]:
        """Every recording, newest first: id, size, modified time, live, and the header's metadata."""
        self.flush()
        out = []
        for p in self._files():
            st = p.stat()
            sid = p.name[:-len(SUFFIX)]
            out.append({"id": sid, "bytes": st.st_size, "mtime": st.st_mtime, "live": sid in self._live,
                        "meta": self.header(sid).get("kws", {})})
        return sorted(out, key=lambda r: r["mtime"], reverse=True)

    def _files(self) -> list[Path]:
        return [p for p in self.directory.glob(f"*{SUFFIX}") if p.is_file()]

    def prune(self, room: int = 0) -> int:
        """Delete recordings past retention, then the oldest finished ones until `room` bytes fit."""
        now = time.time()
        with self._lock:
            live_sizes = {sid: rec.size for sid, rec in self._live.items()}
        files = []
        for p in self._files():
            try:
                st = p.stat()
            except OSError:
                continue
            # A live recording counts what it still buffers too.
            files.append((st.st_mtime, max(st.st_size, live_sizes.get(p.name[:-len(SUFFIX)], 0)), p))
        files.sort()
        removed = 0
        total = sum(size for _, size, _ in files)
        for mtime, size, p in files:
            live = p.name[:-len(SUFFIX)] in self._live
            expired = now - mtime > self.limits.retention_seconds
            if live or not (expired or total + room > self.limits.max_total_bytes):
                continue
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
            log.info("recording %s deleted (%s)", p.name, "retention" if expired else "disk budget")
        return removed
