"""File transfer blueprint: routes under /api/clusters/<c>/namespaces/<ns>/pods/<pod>/files."""
from __future__ import annotations

import dataclasses
import functools
import logging
import posixpath
import sys
import time
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, ValidationError, validate_csrf
from werkzeug.exceptions import ClientDisconnected

from .. import access, names
from ..errors import BadRequest, Forbidden, LimitReached, TransferFailed, WebshellError, error_json
from ..extensions import csrf
from ..kube import download as dl
from ..kube import listing, pods, transfer
from ..kube.conn import Conn
from . import multipart
from .limits import LengthRequired, SharedSlots, Slots, TooLarge

bp = Blueprint("files", __name__, url_prefix="/api/clusters/<cluster>/namespaces/<namespace>/pods/<pod>/files")
log = logging.getLogger(__name__)


def _slots() -> Slots:
    """The server-wide count of running transfers, made on first use."""
    slots = current_app.extensions.get("kws.transfers")
    if slots is None:
        state = current_app.extensions.get("kws.replica_state")   # many replicas: counted in Redis
        limit = current_app.config["MAX_TRANSFERS"]
        slots = current_app.extensions["kws.transfers"] = SharedSlots(limit, state) if state else Slots(limit)
    return slots


def _take(conn: Conn, path: str, event: str, **fields):
    """A transfer slot; beyond MAX_TRANSFERS, LimitReached (429) audited as `file.<event>.failed`."""
    try:
        return _slots().take()
    except LimitReached as e:
        access.audit(f"file.{event}.failed", current_user, **_where(conn, path), **fields, error=e.code)
        raise


def _conn(cluster: str, namespace: str, pod: str, action: str, path: str, event: str | None = None) -> Conn:
    """Check the user may, resolve the container, and say how to exec into it (a refusal audited as `event`)."""
    where = {"cluster": cluster, "namespace": namespace, "pod": pod, "path": path}
    names.target(cluster, namespace, pod, request.args.get("container") or None)
    try:
        access.check(current_user, action, cluster, namespace)
    except Forbidden:
        access.audit(f"file.{event or action}.denied", current_user, **where)
        raise
    reg = current_app.extensions["kws.clusters"]
    headers = access.impersonation(current_user, cluster)   # the pod lookup too is the user's, not the console's
    access.done_with_database()                     # no pooled connection is held while the transfer runs
    target = pods.resolve(reg, cluster, namespace, pod, request.args.get("container") or None, headers)
    return dataclasses.replace(reg.conn(target, headers), idle=current_app.config["TRANSFER_IDLE_TIMEOUT"])


def _where(conn: Conn, path: str) -> dict:
    """Audit fields: the searchable target columns and the path."""
    t = conn.target
    return {"cluster": t.cluster, "namespace": t.namespace, "pod": t.pod, "container": t.container, "path": path}


def _path(required: bool = True) -> str:
    path = request.args.get("path", "")
    if required and not path:
        raise BadRequest("the `path` query parameter is required")
    if "\0" in path:
        raise BadRequest("paths cannot contain NUL characters")
    return path


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/list")
@login_required
def list_files(cluster: str, namespace: str, pod: str):
    path = _path(required=False)
    conn = _conn(cluster, namespace, pod, access.LIST, path)
    cfg = current_app.config
    where, entries, truncated = listing.list_dir(conn, path, cfg["LIST_MAX_ENTRIES"], cfg["LIST_MAX_BYTES"])
    return jsonify(path=where, entries=[e.to_dict() for e in entries], truncated=truncated)


@bp.get("/download")
@login_required
def download(cluster: str, namespace: str, pod: str):
    path = _path()
    conn = _conn(cluster, namespace, pod, access.DOWNLOAD, path)
    fmt = request.args.get("archive", "tar")
    if fmt not in ("tar", "tar.gz"):
        raise BadRequest("archive must be `tar` or `tar.gz`")
    slot = _take(conn, path, "download")
    try:
        d = dl.Download(conn, path, current_app.config["TRANSFER_RETRIES"]).open()
        if d.info is None:
            resp = _archive(conn, path, fmt)
        else:
            resp = _file(d, path)
    except BaseException:
        slot.release()
        raise
    resp.call_on_close(slot.release)
    return resp


def _archive(conn: Conn, path: str, fmt: str) -> Response:
    body = dl.archive(conn, path, fmt == "tar.gz")
    base = dl.archive_entry(path)[1][2:] or "archive"
    access.audit("file.download", current_user, **_where(conn, path), archive=fmt)
    resp = Response(body, mimetype="application/gzip" if fmt == "tar.gz" else "application/x-tar")
    resp.headers["Content-Disposition"] = content_disposition(f"{base}.{fmt}")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _file(d: dl.Download, path: str) -> Response:
    size = d.info.size
    tag = f"{size}-{d.info.mtime}"
    start, stop, status = 0, size, 200
    rng, cond = request.range, request.if_range
    if rng is not None and ((cond.etag is None and cond.date is None) or cond.etag == tag):
        bounds = rng.range_for_length(size)
        if bounds is None:
            d.cancel()
            resp = error_json("range", f"range not satisfiable for {size} bytes", 416)
            resp.headers["Content-Range"] = f"bytes */{size}"
            return resp
        (start, stop), status = bounds, 206
    if request.method == "HEAD":
        d.cancel()
    user, where, t0 = current_user.id, _where(d.conn, path), request.environ.get("kws.started")

    def done(sent: int) -> None:
        access.audit("file.download", user, **where, size=sent, complete=sent == stop - start,
                     duration=round(time.monotonic() - t0, 3) if t0 else None)

    resp = Response(d.stream(start, stop - start, done) if request.method != "HEAD" else b"",
                    status=status, mimetype="application/octet-stream")
    resp.call_on_close(d.cancel)
    resp.headers["Content-Length"] = str(stop - start)
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["ETag"] = f'"{tag}"'
    resp.headers["Cache-Control"] = "no-store"
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    resp.headers["Content-Disposition"] = content_disposition(posixpath.basename(path.rstrip("/")) or "download")
    return resp


def _body(chunk: int):
    """The raw request body in chunks; a client that goes away becomes a TransferFailed."""
    stream = request.stream
    while True:
        try:
            data = stream.read(chunk)
        except (ClientDisconnected, OSError) as e:
            raise TransferFailed(f"the client went away during the upload: {e}") from None
        if not data:
            return
        yield data


def _upload_route(view):
    """Uploads: log-in, then the CSRF header (never a form field), and only then the body limit is lifted.

    Every other route keeps MAX_CONTENT_LENGTH (KWS_MAX_BODY_BYTES): nothing reads a large
    body for a client that is not yet known.
    """
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("kws_token_id") is None:   # a bearer-token request carries no cookie: nothing to forge
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except ValidationError as e:
                raise CSRFError(f"CSRF check failed: {e}") from None   # answered and audited by auth.guard
        # None would mean "the app's limit": lift it; MAX_UPLOAD_BYTES and MAX_UPLOAD_FILES bound what follows.
        request.max_content_length = sys.maxsize
        return view(*args, **kwargs)
    return csrf.exempt(login_required(wrapper))


@bp.put("/upload")
@_upload_route
def upload_one(cluster: str, namespace: str, pod: str):
    path = _path()
    conn = _conn(cluster, namespace, pod, access.UPLOAD, path)
    cfg = current_app.config
    size = request.content_length
    if size is None and request.args.get("size", "").isdigit():
        size = int(request.args["size"])      # a chunked body: the client says the length
    if size is None:
        raise LengthRequired("send the body with a Content-Length (or the `size` query parameter)")
    if size > cfg["MAX_UPLOAD_BYTES"]:
        raise TooLarge(f"{size} bytes is more than the limit of {cfg['MAX_UPLOAD_BYTES']} bytes")
    slot = _take(conn, path, "upload", size=size)
    try:
        done = transfer.upload(conn, path, size, _body(cfg["TRANSFER_CHUNK"]), transfer.Timing.from_config(cfg),
                               mkdirs=request.args.get("mkdirs") == "1")
    except WebshellError as e:
        access.audit("file.upload.failed", current_user, **_where(conn, path), size=size, error=e.code)
        raise
    finally:
        slot.release()
    access.audit("file.upload", current_user, **_where(conn, path), size=size, sha256=done.sha256)
    return jsonify(done.to_dict())


@bp.post("/upload")
@_upload_route        # CSRFProtect would parse the whole form before the view: checked there instead
def upload_many(cluster: str, namespace: str, pod: str):
    directory = _path()
    conn = _conn(cluster, namespace, pod, access.UPLOAD, directory)
    cfg = current_app.config
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise BadRequest("send multipart/form-data with one part per file")
    slot = _take(conn, directory, "upload", completed=0)
    results: list[dict] = []
    try:
        for part in multipart.parts(request.stream, boundary.encode("latin-1"), cfg["TRANSFER_CHUNK"],
                                    cfg["MAX_UPLOAD_BYTES"], cfg["MAX_UPLOAD_FILES"], cfg["TRANSFER_TMPDIR"] or None):
            dest = directory.rstrip("/") + "/" + part.relpath
            done = transfer.upload(conn, dest, part.size, multipart.read_chunks(part.body, cfg["TRANSFER_CHUNK"]),
                                   transfer.Timing.from_config(cfg),
                                   below=directory)   # never through a symbolic link below `directory`
            access.audit("file.upload", current_user, **_where(conn, dest), size=done.size, sha256=done.sha256)
            results.append(done.to_dict())
    except WebshellError as e:
        access.audit("file.upload.failed", current_user, **_where(conn, directory), error=e.code,
                     completed=len(results))
        if results:
            e.message += f" (after {len(results)} file(s) were uploaded)"
        raise
    except (ClientDisconnected, OSError) as e:
        raise TransferFailed(f"the client went away during the upload: {e}") from None
    finally:
        slot.release()
    return jsonify(results)
