"""New folder, rename, delete and owners in the listing, through the real server into containers on both nodes."""
from __future__ import annotations

import os
import secrets

from .test_access import PW, add_user, admin_events
from .test_files import HOSTILE, NOBODY, api, box, http, kbox, workdir, write  # noqa: F401 - fixtures

from .helpers import csrf_token, login


def test_mkdir_rename_delete_with_hostile_names(cluster, server, http, box, target):
    for name in HOSTILE:
        path = str(box / name)
        r = http.post(api(server, target) + "/mkdir", params={"path": path})
        assert r.status_code == 200, r.text
        assert (box / name).is_dir() and r.json()["path"] == path
        write(box / name / "inside", b"x") if target.kind == "kwok" else (box / name / "inside").write_bytes(b"x")
        new = f"{name}-renamed"
        r = http.post(api(server, target) + "/rename", params={"path": path, "name": new})
        assert r.status_code == 200, r.text
        assert not (box / name).exists() and (box / new / "inside").read_bytes() == b"x"
        r = http.post(api(server, target) + "/delete", params={"path": str(box / new)})
        assert r.status_code == 200, r.text
        assert not (box / new).exists()
    assert list(box.iterdir()) == []
    root = workdir(cluster, target)
    assert not [q for p in (box, root) for q in p.iterdir() if q.name.startswith("PWNED")]


def test_names_taken_missing_or_forbidden_are_refused_in_words(cluster, server, http, kbox):
    write(kbox / "a", b"a")
    write(kbox / "b", b"b")
    (kbox / "d").mkdir()
    os.chown(kbox / "d", NOBODY, NOBODY)
    r = http.post(api(server) + "/rename", params={"path": str(kbox / "a"), "name": "b"})
    assert r.status_code == 409 and "exists" in r.json()["error"]["message"]
    r = http.post(api(server) + "/rename", params={"path": str(kbox / "a"), "name": "d"})   # never into the folder
    assert r.status_code == 409 and (kbox / "a").read_bytes() == b"a" and list((kbox / "d").iterdir()) == []
    r = http.post(api(server) + "/mkdir", params={"path": str(kbox / "d")})
    assert r.status_code == 409
    r = http.post(api(server) + "/delete", params={"path": str(kbox / "nothing")})
    assert r.status_code == 404 and "no such file" in r.json()["error"]["message"]
    r = http.post(api(server) + "/mkdir", params={"path": "/root/x"})   # the container's user may not
    assert r.status_code == 403 and "permission denied" in r.json()["error"]["message"]
    os.symlink(str(kbox / "d"), kbox / "ln")
    write(kbox / "d" / "keep", b"k")
    r = http.post(api(server) + "/delete", params={"path": str(kbox / "ln")})
    assert r.status_code == 200 and not os.path.lexists(kbox / "ln") and (kbox / "d" / "keep").read_bytes() == b"k"


def test_relative_paths_that_look_like_options_stay_names(cluster, server, http):
    root = workdir(cluster)
    name = f"-rf {secrets.token_hex(3)}"
    try:
        assert http.post(api(server) + "/mkdir", params={"path": name}).status_code == 200
        assert (root / name).is_dir()
        r = http.post(api(server) + "/rename", params={"path": name, "name": f"--{name}"})
        assert r.status_code == 200 and r.json()["path"] == f"--{name}" and (root / f"--{name}").is_dir()
        assert http.post(api(server) + "/delete", params={"path": f"--{name}"}).status_code == 200
        assert not (root / f"--{name}").exists() and not (root / name).exists()
    finally:
        for n in (name, f"--{name}"):
            if (root / n).exists():
                (root / n).rmdir()


def test_listing_names_owners(server, http, kbox):
    write(kbox / "mine", b"1")
    (kbox / "roots").write_bytes(b"2")       # made by the test, as root
    by = {e["name"]: e for e in http.get(api(server) + "/list", params={"path": str(kbox)}).json()["entries"]}
    assert (by["mine"]["owner"], by["roots"]["owner"]) == ("nobody", "root")
    assert by["roots"]["group"] == "root" and by["mine"]["group"] not in ("", "root")


def test_changes_need_the_upload_right_and_the_csrf_header(cluster, server, kbox):
    name = f"reader{secrets.token_hex(2)}"
    add_user(server, name, ["--namespaces", "demo", "--download"])
    s = login(server, name, PW)
    s.headers["X-CSRFToken"] = csrf_token(s, server)
    write(kbox / "f", b"f")
    for route, params in [("mkdir", {"path": str(kbox / "new")}), ("rename", {"path": str(kbox / "f"), "name": "g"}),
                          ("delete", {"path": str(kbox / "f")})]:
        r = s.post(api(server) + f"/{route}", params=params)
        assert r.status_code == 403 and "upload" in r.json()["error"]["message"], r.text
    assert sorted(os.listdir(kbox)) == ["f"]
    denied = [e["event"] for e in admin_events(server, user=name)]
    assert {"file.mkdir.denied", "file.rename.denied", "file.delete.denied"} <= set(denied)
    admin = login(server)            # logged in, but no CSRF header: refused before anything runs
    r = admin.post(api(server) + "/delete", params={"path": str(kbox / "f")}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and (kbox / "f").exists()
