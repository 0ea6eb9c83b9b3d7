"""TLS for exec connections over memory BIOs: one socket read brings in many records.

The stdlib's SSLSocket reads every TLS record with two system calls (its 5-byte header,
then its body), and eventlet adds five Python frames to each. An API server writes each
websocket frame of terminal output as one or two records of 2-4 KiB, so a flood cost the
console four system calls per frame (docs/PERFORMANCE.md). Here the socket is read in
large pieces, whole records are handed to OpenSSL's memory BIO, and they are decrypted in
a loop. TLS itself stays OpenSSL's (ssl.SSLObject); only the socket I/O is ours.

`TLSConnection` is the socket websocket-client is given (`connect(..., socket=...)`): it
offers recv/send/sendall, timeouts, shutdown, close and fileno, and `pending()`.
"""
from __future__ import annotations

import socket
import ssl
import threading

READ_SIZE = 256 * 1024      # one socket read asks for this much
_HEADER = 5                 # a TLS record: type, version (2), length (2), then the body
_MAX_RECORD = _HEADER + (1 << 14) + 2048   # the longest record TLS allows (RFC 8446 5.2, RFC 5246 6.2.3)


def context_for(opts: dict) -> ssl.SSLContext:
    """A client context from websocket-client style options (cert_reqs, ca_certs, certfile, ...)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if opts.get("cert_reqs", ssl.CERT_REQUIRED) == ssl.CERT_NONE:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cafile=opts.get("ca_certs"))
        ctx.check_hostname = opts.get("check_hostname", True)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if opts.get("certfile"):
        ctx.load_cert_chain(opts["certfile"], opts.get("keyfile"))
    return ctx


class TLSConnection:
    """A TLS client connection that reads records in bulk; one reader, any number of writers."""

    def __init__(self, raw: socket.socket, context: ssl.SSLContext, server_hostname: str):
        self._raw = raw
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._wire = bytearray()            # bytes read that do not make a whole record yet
        self._eof = False
        self._tls_lock = threading.Lock()   # the SSLObject and its BIOs (threads may read and write at once)
        self._send_lock = threading.Lock()  # records leave in the order they were made
        self._closed = False             # websocket-client's shutdown() looks at it

    @classmethod
    def connect(cls, address: tuple[str, int], context: ssl.SSLContext, server_hostname: str,
                timeout: float | None, options: list[tuple[int, int, int]]) -> "TLSConnection":
        """Open TCP to `address`, set `options`, and complete the TLS handshake within `timeout`."""
        raw = socket.create_connection(address, timeout)
        try:
            for opt in options:
                raw.setsockopt(*opt)
            conn = cls(raw, context, server_hostname)
            conn._handshake()
            return conn
        except BaseException:
            raw.close()
            raise

    def _handshake(self) -> None:
        while True:
            try:
                with self._tls_lock:
                    self._tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._pull():
                    raise ConnectionResetError("the server closed the connection during the TLS handshake") from None

    # -- reading -------------------------------------------------------------
    def recv(self, n: int) -> bytes:
        """Up to `n` bytes: everything already decrypted or whole, waiting only when there is none."""
        while True:
            data = self._decrypt(n)
            if data or self._eof:
                return data
            if not self._pull():
                self._eof = True
                return b""

    def _decrypt(self, n: int) -> bytes:
        parts, got = [], 0
        with self._tls_lock:
            while got < n:
                try:
                    piece = self._tls.read(n - got)
                except ssl.SSLWantReadError:
                    break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):   # close_notify, or a ragged end
                    self._eof = True
                    break
                if not piece:                   # close_notify (the stdlib answers it with b"")
                    self._eof = True
                    break
                parts.append(piece)
                got += len(piece)
            reply = self._out.pending
        if reply:                       # a post-handshake message asked for an answer
            self._flush()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _pull(self) -> bool:
        """Read the socket once and hand OpenSSL every whole record; False at the end of the stream."""
        data = self._raw.recv(READ_SIZE)
        if not data:
            return False
        wire = self._wire
        wire += data
        end = 0
        while len(wire) - end >= _HEADER:
            size = _HEADER + (wire[end + 3] << 8 | wire[end + 4])
            if size > _MAX_RECORD:          # not TLS: let OpenSSL say so rather than wait for it
                end = len(wire)
                break
            if len(wire) - end < size:
                break
            end += size
        if end:
            with self._tls_lock:
                self._in.write(wire[:end])
            del wire[:end]
        return True

    def pending(self) -> int:
        """Bytes readable without waiting for the network: decrypted, or in whole records."""
        return self._tls.pending() + self._in.pending

    # -- writing -------------------------------------------------------------
    def sendall(self, data: bytes) -> None:
        with self._send_lock:
            with self._tls_lock:
                self._tls.write(data)
                out = self._out.read()
            self._raw.sendall(out)

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def _flush(self) -> None:
        with self._send_lock:
            with self._tls_lock:
                out = self._out.read()
            if out:
                self._raw.sendall(out)

    # -- the socket ----------------------------------------------------------
    def settimeout(self, seconds: float | None) -> None:
        self._raw.settimeout(seconds)

    def gettimeout(self) -> float | None:
        return self._raw.gettimeout()

    def fileno(self) -> int:
        return self._raw.fileno()

    def shutdown(self, how: int) -> None:
        self._raw.shutdown(how)

    def close(self) -> None:
        self._closed = True
        self._raw.close()
