"""New folder, rename and delete: state-changing routes on the files blueprint, behind the `upload` right.

POST only, so the app's CSRF check (auth.guard: the X-CSRFToken header, or a bearer token)
runs before the view; the path and the new name come as query parameters and are checked
here before anything runs in the container. Every outcome is audited, refusals too.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required

from .. import access
from ..errors import WebshellError
from ..kube import fileops
from .views import _conn, _where, bp


def _change(action: str, run, path: str, **extra):
    """Check the input, check the right (audited when refused), run `run(conn)`, audit what happened."""
    conn = _conn(request.view_args["cluster"], request.view_args["namespace"], request.view_args["pod"],
                 access.UPLOAD, path, action)
    try:
        done = run(conn)
    except WebshellError as e:
        access.audit(f"file.{action}.failed", current_user, **_where(conn, path), **extra, error=e.code)
        raise
    access.audit(f"file.{action}", current_user, **_where(conn, path), **extra)
    return jsonify(path=done)


@bp.post("/mkdir")
@login_required
def make_folder(cluster: str, namespace: str, pod: str):
    path = fileops.check_path(request.args.get("path", ""))
    return _change("mkdir", lambda conn: fileops.mkdir(conn, path), path)


@bp.post("/rename")
@login_required
def rename(cluster: str, namespace: str, pod: str):
    path = fileops.check_path(request.args.get("path", ""))
    name = fileops.check_name(request.args.get("name", ""))
    return _change("rename", lambda conn: fileops.rename(conn, path, name), path, name=name)


@bp.post("/delete")
@login_required
def delete(cluster: str, namespace: str, pod: str):
    path = fileops.check_path(request.args.get("path", ""))
    return _change("delete", lambda conn: fileops.delete(conn, path), path)
