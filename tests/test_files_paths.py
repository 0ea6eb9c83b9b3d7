"""Paths that look like options, paths with newlines, and folder uploads meeting symbolic links."""
from __future__ import annotations

import hashlib
import http.client as http_client
import io
import json
import os
import secrets
import shutil
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from localcluster import demo

from .test_files import CONTAINER, NOBODY, POD, api, box, http, write  # noqa: F401 - fixtures

DASHED = ["-", "--", "-n", "-c1"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def root(cluster):
    """The container's working directory: a relative path there starts with the name itself."""
    d = demo.container_dir(cluster.sandbox, "demo", POD, CONTAINER)
    made: list[Path] = []
    yield d, made
    for p in made:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists() or p.is_symlink():
            p.unlink()


@pytest.mark.parametrize("name", DASHED)
def test_names_like_options_or_stdin_download_and_upload_whole(server, http, root, name):
    d, made = root
    data = os.urandom(25) + name.encode()
    made.append(write(d / name, data))
    r = http.get(api(server) + "/download", params={"path": name})
    assert r.status_code == 200 and len(r.content) == len(data) and _sha(r.content) == _sha(data)
    new = os.urandom(1000)
    r = http.put(api(server) + "/upload", params={"path": name}, data=new)
    assert r.status_code == 200, r.text
    assert r.json() == {"path": name, "size": len(new), "sha256": _sha(new)}
    assert _sha((d / name).read_bytes()) == _sha(new)


@pytest.mark.parametrize("name", DASHED)
def test_folders_named_like_options_list_archive_and_take_uploads(server, http, root, name):
    d, made = root
    folder = d / name
    folder.mkdir()
    os.chown(folder, NOBODY, NOBODY)
    made.append(folder)
    data = os.urandom(4096)
    write(folder / "inside.bin", data)
    listing = http.get(api(server) + "/list", params={"path": name})
    assert listing.status_code == 200, listing.text
    assert listing.json()["path"] == str(folder) and [e["name"] for e in listing.json()["entries"]] == ["inside.bin"]
    tar = http.get(api(server) + "/download", params={"path": name, "archive": "tar"})
    assert tar.status_code == 200, tar.text
    with tarfile.open(fileobj=io.BytesIO(tar.content), mode="r|") as t:
        got = {m.name: t.extractfile(m).read() for m in t if m.isfile()}
    assert {k: _sha(v) for k, v in got.items()} == {f"./{name}/inside.bin": _sha(data)}
    up = os.urandom(3000)
    r = http.post(api(server) + "/upload", params={"path": name},
                  files=[("file", (quote(f"{name}/{name}"), io.BytesIO(up)))])
    assert r.status_code == 200, r.text
    assert _sha((folder / name / name).read_bytes()) == _sha(up)


NL = ["new\nline", "carriage\rreturn", "both\r\nkws:error Permission denied"]


@pytest.mark.parametrize("name", NL, ids=["lf", "cr", "crlf-forged"])
def test_missing_paths_with_newlines_are_404(server, http, box, name):
    missing = f"{box}/{name}/x"
    for route in ("list", "download"):
        r = http.get(api(server) + f"/{route}", params={"path": missing})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (route, r.text)
    r = http.put(api(server) + "/upload", params={"path": missing}, data=b"x")
    assert r.status_code == 404, r.text
    r = http.get(api(server) + "/download", params={"path": f"{box}/{name}"})
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("name", NL, ids=["lf", "cr", "crlf-forged"])
def test_forbidden_paths_with_newlines_are_403(server, http, box, name):
    secret = box / f"{name}.txt"
    secret.write_bytes(b"root only")
    secret.chmod(0o600)            # owned by root: the container's user cannot read it
    closed = box / f"{name}.d"
    closed.mkdir()
    closed.chmod(0o700)
    r = http.get(api(server) + "/download", params={"path": str(secret)})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text
    r = http.get(api(server) + "/list", params={"path": str(closed)})
    assert r.status_code == 403, r.text
    r = http.put(api(server) + "/upload", params={"path": f"{closed}/f"}, data=b"x")
    assert r.status_code == 403, r.text


# -- folder uploads and symbolic links: the kubectl cp CVE class --------------------------------
@pytest.fixture
def elsewhere():
    """A directory outside the upload target that the container's user could write to."""
    d = Path(tempfile.mkdtemp(prefix="kws-elsewhere-"))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _post(server, http, target: Path, parts: dict[str, bytes]):
    return http.post(api(server) + "/upload", params={"path": str(target)},
                     files=[("file", (quote(rel), io.BytesIO(data))) for rel, data in parts.items()])


def _everything(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


@pytest.mark.parametrize("shape", ["absolute-link", "relative-link", "nested-link", "link-as-file"])
def test_a_folder_upload_never_writes_through_a_symlink(server, http, box, elsewhere, shape):
    """CVE-2019-1002101 / -11246 / -11249 / -11251 shapes: a link below the target, then parts through it."""
    target = box / "target"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    if shape == "absolute-link":                   # target/link -> /elsewhere
        os.symlink(elsewhere, target / "link")
        parts, refused, link = {"ok.txt": b"fine", "link/evil.txt": b"1", "link/sub/evil2.txt": b"2"}, "link/evil.txt", "link"
    elif shape == "relative-link":                 # target/up -> ../.. (out of the target by a relative path)
        os.symlink(os.path.relpath(elsewhere, target), target / "up")
        parts, refused, link = {"ok.txt": b"fine", "up/evil.txt": b"1"}, "up/evil.txt", "up"
    elif shape == "nested-link":                   # target/a/b -> /elsewhere, a is a real directory
        (target / "a").mkdir()
        os.chown(target / "a", NOBODY, NOBODY)
        os.symlink(elsewhere, target / "a" / "b")
        parts, refused, link = {"ok.txt": b"fine", "a/b/c/evil.txt": b"1"}, "a/b/c/evil.txt", "a/b"
    else:                                          # target/evil.txt -> /elsewhere/evil.txt
        os.symlink(elsewhere / "evil.txt", target / "evil.txt")
        parts, refused, link = {"ok.txt": b"fine", "evil.txt": b"1"}, "evil.txt", "evil.txt"
    r = _post(server, http, target, parts)
    assert r.status_code == 403, r.text
    message = r.json()["error"]["message"]
    assert f"refused '{refused}'" in message and f"'{link}'" in message and "symbolic link" in message, message
    assert "after 1 file(s) were uploaded" in message
    assert _everything(elsewhere) == []            # nothing outside the target, not even a directory
    assert (target / "ok.txt").read_bytes() == b"fine"


def test_a_folder_upload_still_creates_its_directories(server, http, box):
    target = box / "tree"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    parts = {"a/b/c.txt": b"c", "a/d.txt": b"d", f"x-{secrets.token_hex(2)}/y/z": os.urandom(5000)}
    r = _post(server, http, target, parts)
    assert r.status_code == 200, r.text
    for rel, data in parts.items():
        assert (target / rel).read_bytes() == data
    r = _post(server, http, target, {"a/d.txt/e": b"not a directory"})
    assert r.status_code == 404 and "not a directory" in r.json()["error"]["message"], r.text


def test_a_link_that_appears_between_parts_is_refused_too(server, http, box, elsewhere):
    """Part 1 creates `a/`; before part 2 (`a/two.txt`) arrives, `a` becomes a link out of the target."""
    import time
    target = box / "race"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    head = 'Content-Disposition: form-data; name="file"; filename="{}"\r\nContent-Type: application/octet-stream\r\n\r\n'

    # The server reads the body KWS_TRANSFER_CHUNK (128 KiB) at a time: make part 1 end a read exactly.
    first = b"--B\r\n" + head.format("a/one.txt").encode()
    end = b"\r\n--B\r\n"
    first += b"1" * (2 * 131072 - len(first) - len(end)) + end
    second = head.format("a/two.txt").encode() + b"2\r\n--B--\r\n"
    conn = http_client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.putrequest("POST", urlsplit(api(server)).path + "/upload?" + urlencode({"path": str(target)}))
        for k, v in {"Content-Type": "multipart/form-data; boundary=B", "Content-Length": str(len(first + second)),
                     "Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items()),
                     "X-CSRFToken": http.headers["X-CSRFToken"]}.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(first)
        deadline = time.monotonic() + 20
        while not (target / "a" / "one.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(target / "a")
        os.symlink(elsewhere, target / "a")
        conn.send(second)
        resp = conn.getresponse()
        status, answer = resp.status, json.loads(resp.read())
    finally:
        conn.close()
    assert status == 403, answer
    assert "refused 'a/two.txt'" in answer["error"]["message"]
    assert _everything(elsewhere) == []
