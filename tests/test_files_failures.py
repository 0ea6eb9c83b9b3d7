"""Transfers that fail: cancelled and cut uploads leave nothing; errors get fitting statuses."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .helpers import csrf_token, login
from .test_files import CHUNK, NOBODY, POD, api, http, kwok_box, leftovers  # noqa: F401 - fixtures


@pytest.fixture
def box(cluster) -> Path:
    """kwok only: these tests find and kill the container's processes as the host's `nobody`."""
    return kwok_box(cluster)

def _raw_put(server, http, path: str, size: int, send: int) -> socket.socket:
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    s = socket.create_connection(("127.0.0.1", server.port))
    target = f"/api/clusters/kws-local/namespaces/demo/pods/{POD}/files/upload?path={path}"
    s.sendall((f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
               f"X-CSRFToken: {http.headers['X-CSRFToken']}\r\nContent-Length: {size}\r\n\r\n").encode())
    s.sendall(os.urandom(send))
    return s


def _wait_gone(d: Path, timeout: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and list(d.iterdir()):
        time.sleep(0.1)
    return sorted(p.name for p in d.iterdir())


def _writers(d: Path) -> list[int]:
    out = subprocess.run(["ps", "-u", str(NOBODY), "-o", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if str(d) in line]


def test_cancelled_upload_leaves_nothing(server, http, box):
    s = _raw_put(server, http, str(box / "cancel.bin"), 50 * CHUNK, 5 * CHUNK)
    deadline = time.monotonic() + 10
    while not leftovers(box) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(box), "the temporary should exist while the upload runs"
    assert not (box / "cancel.bin").exists()
    s.close()                                    # the user cancelled: the connection goes away
    assert _wait_gone(box) == []
    assert _writers(box) == []
    assert "upload cleaned up" in server.log()


def _writer_pids(size: int) -> list[int]:
    """The container's upload writers of `size` bytes (`head -c SIZE`), as host processes (kwok)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args[0].endswith(b"head") and args[1:3] == [b"-c", str(size).encode()]:
            pids.append(int(pid))
    return pids


def test_upload_cut_in_the_container_fails_and_leaves_nothing(server, http, box):
    result = {}

    def body():
        yield os.urandom(4 * CHUNK)
        # The script creates its temporary before it starts the writer: wait for the writer
        # itself (on a loaded machine it came after one look at /proc, and nothing was cut).
        deadline = time.monotonic() + 30
        while not (pids := _writer_pids(40 * CHUNK)) and time.monotonic() < deadline:
            time.sleep(0.05)
        result["cut"] = pids
        for pid in pids:
            os.kill(pid, 9)
        for _ in range(36):
            yield os.urandom(CHUNK)

    class Body:
        def __iter__(self):
            return body()

        def __len__(self):
            return 40 * CHUNK
    try:
        result["r"] = http.put(api(server) + "/upload", params={"path": str(box / "cut.bin")}, data=Body())
    except requests.ConnectionError as e:   # the server may answer before the body is sent
        result["error"] = e
    assert result["cut"], "the container's writer never started"
    if "r" in result:
        assert result["r"].status_code == 502, result["r"].text
    assert _wait_gone(box) == []


@pytest.fixture
def mounts(box):
    """A read-only and a nearly full file system inside the container (tmpfs)."""
    ro, full = box / "ro", box / "full"
    made = []
    try:
        for d, opts in ((ro, "size=1m,ro"), (full, f"size=256k,uid={NOBODY},gid={NOBODY}")):
            d.mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "kws-test", str(d)], check=True)
            made.append(d)
        yield ro, full
    finally:
        for d in made:
            subprocess.run(["umount", "-l", str(d)], check=False)


def test_errors_have_fitting_status_and_the_server_keeps_serving(server, http, box, mounts):
    ro, full = mounts
    cases = [
        (http.get(api(server) + "/download", params={"path": str(box / "nope")}), 404, "no such file"),
        (http.get(api(server) + "/list", params={"path": str(box / "nope")}), 404, "no such file"),
        (http.get(api(server, pod="no-such-pod") + "/list"), 404, "pod 'no-such-pod' not found"),
        (http.get(api(server) + "/list", params={"container": "nope"}), 404, "container 'nope' not found"),
        (http.get(api(server) + "/list", params={"path": "/root"}), 403, "permission denied"),
        (http.put(api(server) + "/upload", params={"path": "/etc/kws-test"}, data=b"x"), 403, "permission denied"),
        (http.put(api(server) + "/upload", params={"path": str(ro / "x")}, data=b"x"), 507, "read-only"),
        (http.put(api(server) + "/upload", params={"path": str(full / "x")}, data=os.urandom(2 * CHUNK)),
         507, "no space left"),
        (http.get(api(server, pod="distroless") + "/list"), 422, "no 'sh'"),
        (http.get(api(server) + "/download"), 400, "`path`"),
        (http.put(api(server) + "/upload", params={"path": str(box / "nodir" / "x")}, data=b"x"), 404, "no such"),
        (http.get(api(server, pod="pending") + "/list"), 409, "Pending"),
    ]
    for r, status, text in cases:
        assert r.status_code == status, (r.url, r.text)
        assert r.headers["Content-Type"] == "application/json"
        assert text in r.json()["error"]["message"], r.text
    assert http.get(api(server, pod="distroless") + "/list").json()["error"]["code"] == "missing_tool"
    assert list(full.iterdir()) == [] and list(ro.iterdir()) == []
    assert http.get(api(server) + "/list", params={"path": str(box)}).status_code == 200


def test_upload_limits_from_config(make_server, box):
    srv = make_server(max_upload_bytes=1000)
    http = login(srv)
    http.headers["X-CSRFToken"] = csrf_token(http, srv)
    r = http.put(api(srv) + "/upload", params={"path": str(box / "big")}, data=b"x" * 1001)
    assert r.status_code == 413 and not (box / "big").exists()
    r = http.put(api(srv) + "/upload", params={"path": str(box / "ok")}, data=b"x" * 1000)
    assert r.status_code == 200 and (box / "ok").read_bytes() == b"x" * 1000
    r = http.put(api(srv) + "/upload", params={"path": str(box / "nocsrf")}, data=b"x",
                 headers={"X-CSRFToken": ""})
    assert r.status_code == 400 and not (box / "nocsrf").exists()
    r = http.post(api(srv) + "/upload", params={"path": str(box)}, files=[("file", ("a", b"a"))],
                  headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400 and not (box / "a").exists()


def test_concurrent_transfers_are_capped_and_slots_come_back(make_server, box):
    srv = make_server(max_transfers=1)
    http = login(srv)
    (box / "slow.bin").write_bytes(os.urandom(32 * CHUNK))
    os.chown(box / "slow.bin", NOBODY, NOBODY)
    first = http.get(api(srv) + "/download", params={"path": str(box / "slow.bin")}, stream=True)
    assert first.status_code == 200
    second = requests.get(api(srv) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert second.status_code == 429 and second.json()["error"]["code"] == "limit"
    assert len(first.content) == 32 * CHUNK            # the first one completes, then frees its slot
    again = requests.get(api(srv) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert again.status_code == 200 and len(again.content) == 32 * CHUNK
    head = requests.head(api(srv) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(32 * CHUNK) and head.content == b""
    last = requests.get(api(srv) + "/download", params={"path": str(box / "slow.bin")}, cookies=http.cookies)
    assert last.status_code == 200 and len(last.content) == 32 * CHUNK     # HEAD gave its slot back too
    assert _writers(box) == []                                              # and left no script waiting
