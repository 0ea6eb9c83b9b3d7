"""File transfer through the real server into containers on both nodes: bytes checked on disk.

On the kwok node a container's filesystem is a host directory; on the real node the files go to
a host directory mounted at the same path in real/web (localcluster.realpods.share_dir), so both
are checked on the host at the path the console used.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import tarfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import requests

from localcluster import demo

from .helpers import csrf_token, login
from .targets import Target

NOBODY = demo.NOBODY
POD, CONTAINER = "web-2", "web"
CHUNK = 1024 * 1024


def api(server, pod=POD, namespace="demo") -> str:
    """The files API of a pod; `pod` may be a Target (tests/targets.py): its files pod then."""
    if isinstance(pod, Target):
        namespace, pod = (pod.namespace, pod.pod) if pod.kind == "real" else ("demo", POD)
    return f"{server.url}/api/clusters/kws-local/namespaces/{namespace}/pods/{pod}/files"


def workdir(cluster, target: Target | None = None) -> Path:
    """The files pod's working directory, seen from the host."""
    if target is not None and target.kind == "real":
        return target.share
    return demo.container_dir(cluster.sandbox, "demo", POD, CONTAINER)


def kwok_box(cluster) -> Path:
    """A fresh directory inside web-2's filesystem, owned by the container's user."""
    d = workdir(cluster) / f"t-{secrets.token_hex(4)}"
    d.mkdir()
    os.chown(d, NOBODY, NOBODY)
    return d


@pytest.fixture
def box(cluster, target) -> Path:
    """A fresh directory in the files pod of `target`, owned by the container's user on kwok."""
    if target.kind == "kwok":
        return kwok_box(cluster)
    d = workdir(cluster, target) / f"t-{secrets.token_hex(4)}"
    d.mkdir()
    return d


@pytest.fixture
def kbox(cluster) -> Path:
    """kwok only: for tests that need an unprivileged container user or are too slow for both."""
    return kwok_box(cluster)


@pytest.fixture
def http(server):
    s = login(server)
    s.headers["X-CSRFToken"] = csrf_token(s, server)
    return s


def write(path: Path, data: bytes) -> Path:
    """A file in the container, owned by the container's user."""
    path.write_bytes(data)
    os.chown(path, NOBODY, NOBODY)
    return path


def random_file(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            h.update(block)
            f.write(block)
            left -= len(block)
    return h.hexdigest()


def sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def download_sha(http, url, **params) -> tuple[requests.Response, str, int]:
    r = http.get(url + "/download", params=params, stream=True)
    h, n = hashlib.sha256(), 0
    if r.ok:
        for block in r.iter_content(CHUNK):
            h.update(block)
            n += len(block)
    return r, h.hexdigest(), n


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if ".kws-" in p.name)


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 200 * 1024 * 1024], ids=["0B", "1B", "1MB", "200MB"])
def test_binary_round_trip(server, http, box, tmp_path, size, target):
    src = tmp_path / "src.bin"
    digest = random_file(src, size)
    with open(src, "rb") as f:     # requests sends an empty file chunked: `size` says the length then
        r = http.put(api(server, target) + "/upload", data=f,
                     params={"container": CONTAINER, "path": str(box / "f.bin"), **({"size": 0} if not size else {})})
    assert r.status_code == 200, r.text
    assert r.json() == {"path": str(box / "f.bin"), "size": size, "sha256": digest}
    assert sha_file(box / "f.bin") == digest and (box / "f.bin").stat().st_size == size
    assert leftovers(box) == []
    r, got, n = download_sha(http, api(server, target), container=CONTAINER, path=str(box / "f.bin"))
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == size
    assert (got, n) == (digest, size)


def test_range_requests_resume_a_download(server, http, box, target):
    data = os.urandom(3 * CHUNK + 123)
    write(box / "r.bin", data)
    url, params = api(server, target) + "/download", {"path": str(box / "r.bin")}
    first = http.get(url, params=params, headers={"Range": "bytes=0-999999"})
    assert first.status_code == 206 and first.headers["Content-Range"] == f"bytes 0-999999/{len(data)}"
    rest = http.get(url, params=params, headers={"Range": "bytes=1000000-", "If-Range": first.headers["ETag"]})
    assert rest.status_code == 206 and int(rest.headers["Content-Length"]) == len(data) - 1000000
    assert first.content + rest.content == data
    tail = http.get(url, params=params, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    stale = http.get(url, params=params, headers={"Range": "bytes=5-", "If-Range": '"0-0"'})
    assert stale.status_code == 200 and stale.content == data        # changed file: whole body
    bad = http.get(url, params=params, headers={"Range": f"bytes={len(data) + 5}-"})
    assert bad.status_code == 416 and bad.headers["Content-Range"] == f"bytes */{len(data)}"
    assert http.get(url, params={"path": str(box / "r.bin")}).content == data   # still serving


def _kill_reader(path: Path, timeout: float = 10) -> int:
    """Kill the container process that reads `path` (head/tail run by the download script)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if args and args[0].endswith((b"head", b"tail")) and str(path).encode() in args:
                os.kill(int(pid), 9)
                return int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no reader of {path} found")


def test_download_cut_in_the_container_resumes_where_it_stopped(server, http, box, target):
    data = os.urandom(64 * CHUNK)
    write(box / "cut.bin", data)
    r = http.get(api(server, target) + "/download", params={"path": str(box / "cut.bin")}, stream=True)
    it = r.iter_content(64 * 1024)
    got = bytearray(next(it))
    _kill_reader(box / "cut.bin")
    for block in it:
        got += block
    assert bytes(got) == data
    assert "download cut" in server.log()


def test_download_that_finally_fails_is_aborted_not_truncated(make_server, box, target):
    srv = make_server(transfer_retries=0)
    http = login(srv)
    write(box / "cut.bin", os.urandom(64 * CHUNK))
    r = http.get(api(srv, target) + "/download", params={"path": str(box / "cut.bin")}, stream=True)
    it = r.iter_content(64 * 1024)
    next(it)
    _kill_reader(box / "cut.bin")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in it:
            pass
    assert http.get(api(srv, target) + "/list", params={"path": str(box)}).status_code == 200


def test_folder_upload_and_download_round_trip(server, http, box, target):
    files = {"a.txt": b"alpha\n", "sub/b.bin": os.urandom(300_000), "sub/deeper/c": b"", "sub/deeper/d d": b"x" * 10}
    parts = [("file", (quote(f"tree/{rel}"), io.BytesIO(data))) for rel, data in files.items()]
    r = http.post(api(server, target) + "/upload", params={"path": str(box)}, files=parts)
    assert r.status_code == 200, r.text
    assert sorted(x["path"] for x in r.json()) == sorted(f"{box}/tree/{rel}" for rel in files)
    for rel, data in files.items():
        assert (box / "tree" / rel).read_bytes() == data
    for fmt, mode in (("tar", "r|"), ("tar.gz", "r|gz")):
        resp = http.get(api(server, target) + "/download", params={"path": str(box / "tree"), "archive": fmt})
        assert resp.status_code == 200, resp.text
        assert f"filename*=UTF-8''tree.{fmt}" in resp.headers["Content-Disposition"]
        got = {}
        with tarfile.open(fileobj=io.BytesIO(resp.content), mode=mode) as tar:
            for m in tar:
                if m.isfile():
                    got[m.name] = tar.extractfile(m).read()
        assert got == {f"./tree/{rel}": data for rel, data in files.items()}
    os.symlink("tree", box / "via-link")     # a link to a directory: its target's contents
    resp = http.get(api(server, target) + "/download", params={"path": str(box / "via-link")})
    with tarfile.open(fileobj=io.BytesIO(resp.content), mode="r|") as tar:
        assert sorted(m.name for m in tar if m.isfile()) == sorted(f"./{rel}" for rel in files)


def test_folder_download_with_an_unreadable_file_is_aborted(server, http, kbox):
    """kwok only: real/web runs as root, who reads every file."""
    write(kbox / "ok.txt", b"fine")
    secret = kbox / "secret.txt"
    secret.write_bytes(b"root only")
    secret.chmod(0o600)            # owned by root: the container's user cannot read it
    r = http.get(api(server) + "/download", params={"path": str(kbox)}, stream=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in r.iter_content(CHUNK):
            pass


HOSTILE = ["with space.txt", "quote\"double'single.txt", "$(touch PWNED1)", "semi;touch PWNED2;",
           "-leading-dash", "new\nline.txt", "中文ファイル.txt", "`touch PWNED3`", "back\\slash", "%41percent"]


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_are_transferred_and_never_executed(cluster, server, http, box, name, target):
    data = name.encode() * 3
    dest = str(box / name)
    r = http.put(api(server, target) + "/upload", params={"path": dest}, data=data)
    assert r.status_code == 200, r.text
    assert (box / name).read_bytes() == data
    listing = http.get(api(server, target) + "/list", params={"path": str(box)}).json()
    assert [e["name"] for e in listing["entries"]] == [name]
    got = http.get(api(server, target) + "/download", params={"path": dest})
    assert got.content == data
    cd = got.headers["Content-Disposition"]
    assert unquote(cd.split("filename*=UTF-8''")[1]) == name and "\n" not in cd
    # the same name inside a folder upload (multipart, percent-decoded file names)
    r = http.post(api(server, target) + "/upload", params={"path": str(box)},
                  files=[("file", (quote(f"dir/{name}"), io.BytesIO(data)))])
    assert r.status_code == 200, r.text
    assert (box / "dir" / name).read_bytes() == data
    root = workdir(cluster, target)
    # relative to the container's working directory, so that the path itself starts with the name
    rel = f"{name}-{secrets.token_hex(3)}"
    r = http.put(api(server, target) + "/upload", params={"path": rel}, data=data)
    assert r.status_code == 200, r.text
    try:
        assert (root / rel).read_bytes() == data
        assert http.get(api(server, target) + "/download", params={"path": rel}).content == data
    finally:
        (root / rel).unlink()
    assert not [q for p in (box, box / "dir", root, Path.cwd()) for q in p.iterdir() if q.name.startswith("PWNED")]


def test_listing_reports_types_sizes_and_links(server, http, box, target):
    write(box / "f", b"12345")
    (box / "d").mkdir()
    os.symlink("f", box / "ln")
    (box / "f").chmod(0o640)
    body = http.get(api(server, target) + "/list", params={"path": str(box)}).json()
    assert body["path"] == str(box) and body["truncated"] is False
    by = {e["name"]: e for e in body["entries"]}
    assert [e["name"] for e in body["entries"]] == ["d", "f", "ln"]
    assert by["d"]["type"] == "dir" and by["f"]["type"] == "file" and by["f"]["size"] == 5
    assert by["f"]["mode"] == "-rw-r-----" and abs(by["f"]["mtime"] - time.time()) < 600
    assert by["ln"]["type"] == "link" and by["ln"]["link_target"] == "f"
    home = http.get(api(server, target) + "/list").json()
    assert home["path"] == str(box.parent) and any(e["name"] == box.name for e in home["entries"])


def test_server_memory_stays_flat_during_a_1gb_transfer(server, http, kbox):
    """kwok only, to keep the suite short: the benchmarks measure memory on both nodes."""
    size = 1024 * CHUNK
    block = os.urandom(CHUNK)
    h = hashlib.sha256()

    class Body:
        def __iter__(self):
            for i in range(1024):
                piece = i.to_bytes(8, "big") + block[8:]
                h.update(piece)
                yield piece

        def __len__(self):
            return size

    peak = {"rss": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], server.rss())
            time.sleep(0.05)
    http.get(api(server) + "/list", params={"path": str(kbox)})
    base = server.rss()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        r = http.put(api(server) + "/upload", params={"path": str(kbox / "big.bin")}, data=Body())
        assert r.status_code == 200, r.text
        assert r.json()["sha256"] == h.hexdigest()
        r, got, n = download_sha(http, api(server), path=str(kbox / "big.bin"))
        assert (got, n) == (h.hexdigest(), size)
    finally:
        stop.set()
        sampler.join()
        (kbox / "big.bin").unlink(missing_ok=True)
    grown = peak["rss"] - base
    assert grown < 64 * 1024 * 1024, f"server RSS grew by {grown / 2**20:.0f} MiB during a 1 GiB transfer"
