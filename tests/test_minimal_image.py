"""A container with only sh, cat and ls on its PATH: clear answers naming the missing tool."""
from __future__ import annotations

import os
import re

from .helpers import csrf_token

FILES = "/api/clusters/kws-local/namespaces/demo/pods/minimal/files"


def test_upload_and_folder_download_name_the_missing_tool(server, admin, cluster):
    from localcluster import demo
    r = admin.put(f"{server.url}{FILES}/upload", params={"path": "x.bin"}, data=b"payload",
                  headers={"X-CSRFToken": csrf_token(admin, server)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_tool", r.text
    assert "'head'" in r.json()["error"]["message"]
    assert not any(p.name.startswith(".x.bin") or p.name == "x.bin"
                   for p in demo.container_dir(cluster.sandbox, "demo", "minimal", "app").iterdir())
    r = admin.get(f"{server.url}{FILES}/download", params={"path": ".", "archive": "tar"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_tool", r.text
    named = re.search(r"has no '([\w.-]+)'", r.json()["error"]["message"]).group(1)
    assert named in {"head", "tail", "tar"} and named not in demo.MINIMAL_TOOLS


def test_terminal_falls_back_to_sh(term):
    ack = term.call("open", {"cluster": "kws-local", "namespace": "demo", "pod": "minimal", "cols": 80, "rows": 24})
    assert ack["ok"] and ack["shell"] == "sh", ack
    term.send(ack["session"], "echo min-$((1+1))\n")
    term.wait_for(ack["session"], "min-2")


def test_system_programs_keep_their_owner():
    """The sandbox is handed to `nobody`; the programs its symlinks point at must stay root's."""
    for prog in ("/usr/bin/sh", "/usr/bin/dash", "/usr/bin/cat", "/usr/bin/ls"):
        if os.path.exists(prog):
            assert os.stat(prog).st_uid == 0, prog


def test_upload_without_tee_or_sha256sum_still_lands_exactly(server, admin, cluster):
    """Images with head but no tee (and then no sha256sum): the fallbacks of the one-pass upload."""
    import hashlib
    import shutil

    from localcluster import demo
    tools = cluster.sandbox / "_minimal-bin"
    home = demo.container_dir(cluster.sandbox, "demo", "minimal", "app")
    added = []
    try:
        for tool in ("head", "mv", "rm", "wc"):
            (tools / tool).symlink_to(shutil.which(tool))
            added.append(tools / tool)
        for extra in (None, "sha256sum"):        # byte count only, then a second hashing pass
            if extra:
                (tools / extra).symlink_to(shutil.which(extra))
                added.append(tools / extra)
            body = os.urandom(300_000)
            r = admin.put(f"{server.url}{FILES}/upload", params={"path": f"fallback-{extra}.bin"}, data=body,
                          headers={"X-CSRFToken": csrf_token(admin, server)})
            assert r.status_code == 200, r.text
            assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()
            assert (home / f"fallback-{extra}.bin").read_bytes() == body
        assert sorted(p.name for p in home.iterdir() if p.name.startswith(".fallback")) == []
    finally:
        for link in added:
            link.unlink()
        for p in home.glob("fallback-*.bin"):
            p.unlink()
