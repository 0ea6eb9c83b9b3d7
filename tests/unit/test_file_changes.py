"""The new-folder, rename and delete routes refuse what they must before anything runs in a container."""
from __future__ import annotations

import pytest

from webshell.errors import BadRequest, Exists
from webshell.kube import fileops
from webshell.kube.remote import classify

BASE = "/api/clusters/kws-local/namespaces/demo/pods/web-2/files"


@pytest.mark.parametrize("path", ["", "/", "//", "/a/.", "/a/..", "..", ".", "a/./", "x\0y"])
def test_paths_that_name_no_single_entry_are_refused(path):
    with pytest.raises(BadRequest):
        fileops.check_path(path)


def test_odd_paths_that_name_one_entry_pass_unchanged_but_for_a_trailing_slash():
    for path in ["/a b", "-rf", "$(touch x)", "a\nb", "/中文/", ".hidden", "..."]:
        assert fileops.check_path(path) == path.rstrip("/")


@pytest.mark.parametrize("name", ["", "a/b", "/", ".", "..", "x\0", "é" * 128])
def test_new_names_are_one_name(name):
    with pytest.raises(BadRequest):
        fileops.check_name(name)


def test_taken_names_are_a_conflict():
    err = classify("kws:error File exists\n", "", "", "rename", "/x", True)
    assert type(err) is Exists and err.status == 409 and "exists" in err.message


@pytest.mark.parametrize("route", ["mkdir", "rename", "delete"])
def test_changes_need_a_login_then_the_csrf_header(client, auth, route):
    r = client.post(f"{BASE}/{route}?path=/tmp/x&name=y", headers={"Accept": "application/json"})
    assert r.status_code in (400, 401) and r.status_code != 200
    auth.login()
    r = client.post(f"{BASE}/{route}?path=/tmp/x&name=y", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    assert client.get(f"{BASE}/{route}?path=/tmp/x").status_code == 405


@pytest.mark.parametrize("route, query, said", [
    ("mkdir", "path=/", "root directory"),
    ("delete", "path=/srv/..", "not `.` or `..`"),
    ("delete", "", "`path` query parameter is required"),
    ("rename", "path=/srv/a&name=../b", "cannot contain `/`"),
    ("rename", "path=/srv/a", "new name is empty"),
])
def test_bad_input_is_refused_in_words(client, auth, route, query, said):
    auth.login()
    r = client.post(f"{BASE}/{route}?{query}", headers={"X-CSRFToken": auth.csrf(), "Accept": "application/json"})
    assert r.status_code == 400 and said in r.get_json()["error"]["message"]


def test_a_user_without_the_upload_right_is_refused_and_audited(app, client, auth):
    from webshell.models import AuditEvent
    auth.login("alice")
    r = client.post(f"{BASE}/delete?path=/srv/a", headers={"X-CSRFToken": auth.csrf(), "Accept": "application/json"})
    assert r.status_code == 403
    with app.app_context():
        assert [e.event for e in AuditEvent.query.all() if e.event.startswith("file.")] == ["file.delete.denied"]


def test_changes_from_a_foreign_origin_are_refused(client, auth):
    auth.login()
    r = client.post(f"{BASE}/mkdir?path=/tmp/x", headers={"X-CSRFToken": auth.csrf(), "Accept": "application/json",
                                                         "Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.get_json()["error"]["message"]
