"""kube/tls.py against a real TLS server on loopback (the stdlib's), no cluster."""
from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest

from localcluster.pki import CertificateAuthority
from webshell.kube import tls


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(d)
    crt, key = ca.issue("server", "localhost", server=True)
    return ca, crt, key


class Server:
    """Accepts one TLS client and runs `script(conn)` on it in a thread."""

    def __init__(self, ca, script):
        _, crt, key = ca
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.error: BaseException | None = None

        def run():
            raw, _ = self.listener.accept()
            try:
                with ctx.wrap_socket(raw, server_side=True) as conn:
                    script(conn)
            except BaseException as e:   # noqa: BLE001 - reported by the test
                self.error = e
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def close(self):
        self.thread.join(10)
        self.listener.close()


def connect(ca, port, timeout=5.0) -> tls.TLSConnection:
    ctx = tls.context_for({"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(ca[0].cert_path)})
    return tls.TLSConnection.connect(("127.0.0.1", port), ctx, "localhost", timeout, [])


def test_many_records_arrive_whole_in_few_reads(ca):
    pieces = [bytes([i % 251]) * (1500 + i) for i in range(40)]   # one record each, 63 KB in all
    sent = threading.Event()

    def script(conn):
        for p in pieces:
            conn.sendall(p)
        sent.set()
        assert conn.recv(100) == b"thanks"

    srv = Server(ca, script)
    c = connect(ca, srv.port)
    assert sent.wait(10)
    got, reads = bytearray(), 0
    while len(got) < sum(map(len, pieces)):
        chunk = c.recv(tls.READ_SIZE)
        assert chunk
        got += chunk
        reads += 1
    assert bytes(got) == b"".join(pieces)
    assert reads <= 3, reads                       # the records come in bulk, not one per call
    c.sendall(b"thanks")
    srv.close()
    assert srv.error is None, srv.error
    c.close()


def test_a_record_cut_in_two_is_not_pending_until_whole(ca):
    cut = threading.Event()

    def script(conn):
        conn.sendall(b"first")
        cut.wait(5)
        conn.sendall(b"second" * 100)

    srv = Server(ca, script)
    c = connect(ca, srv.port)
    assert c.recv(100) == b"first"
    assert not c.pending()
    c._wire += b"\x17\x03\x03\x10\x00" + b"x" * 100   # the first part of a 4 KiB record: not whole
    assert not c.pending()
    c._wire.clear()
    cut.set()
    time.sleep(0.2)
    assert c.recv(1000) == b"second" * 100
    c.close()
    srv.close()


def test_the_end_of_the_stream_and_timeouts(ca):
    def script(conn):
        conn.sendall(b"bye")
        time.sleep(0.5)
        conn.unwrap()                                   # close_notify

    srv = Server(ca, script)
    c = connect(ca, srv.port)
    c.settimeout(0.1)
    assert c.recv(100) == b"bye"
    with pytest.raises(TimeoutError):
        c.recv(100)                                     # nothing within 0.1 s
    c.settimeout(5)
    assert c.recv(100) == b""
    assert c.recv(100) == b""
    c.close()
    srv.close()


def test_an_untrusted_server_is_refused(ca, tmp_path):
    other = CertificateAuthority(tmp_path)
    srv = Server(ca, lambda conn: None)
    ctx = tls.context_for({"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(other.cert_path)})
    with pytest.raises(ssl.SSLCertVerificationError):
        tls.TLSConnection.connect(("127.0.0.1", srv.port), ctx, "localhost", 5, [])
    srv.close()


def test_a_server_that_does_not_speak_tls_is_an_error_not_a_wait(ca):
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def answer():
        conn, _ = listener.accept()
        conn.recv(1000)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")   # a length field of 20 527: no record
        done.wait(30)                                           # and the connection stays open
        conn.close()
    threading.Thread(target=answer, daemon=True).start()
    ctx = tls.context_for({"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(ca[0].cert_path)})
    try:
        # Waiting for the rest of the "record" would end in TimeoutError, not in OpenSSL's error.
        with pytest.raises(ssl.SSLError):
            tls.TLSConnection.connect(("127.0.0.1", listener.getsockname()[1]), ctx, "localhost", 3, [])
    finally:
        done.set()
        listener.close()


def test_writers_from_several_threads_keep_records_whole(ca):
    n, size = 8, 200

    def script(conn):
        want = n * size * 64
        got = bytearray()
        while len(got) < want:
            got += conn.recv(65536)
        conn.sendall(str(sorted(got.count(bytes([65 + i]) * 64) for i in range(n))).encode())

    srv = Server(ca, script)
    c = connect(ca, srv.port)
    threads = [threading.Thread(target=lambda i=i: [c.sendall(bytes([65 + i]) * 64) for _ in range(size)])
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.recv(1000) == str([size] * n).encode()
    srv.close()
    assert srv.error is None, srv.error
    c.close()
