"""Domain errors, each with a protocol code and an HTTP status; JSON and Socket.IO renderings."""
from __future__ import annotations


class WebshellError(Exception):
    """Base of every error a user may see; `message` is meant for humans."""

    code = "error"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class BadRequest(WebshellError):
    code, status = "bad_request", 400


class Unauthorized(WebshellError):
    code, status = "unauthorized", 401


class Forbidden(WebshellError):
    code, status = "forbidden", 403


class NotFound(WebshellError):
    code, status = "not_found", 404


class Exists(WebshellError):
    """A new folder or a rename onto a name that is taken."""
    code, status = "exists", 409


class NotRunning(WebshellError):
    code, status = "not_running", 409


class NoShell(WebshellError):
    code, status = "no_shell", 422


class MissingTool(WebshellError):
    """The container lacks a program the operation needs (`tool` names it)."""

    code, status = "missing_tool", 422

    def __init__(self, message: str, tool: str = ""):
        super().__init__(message)
        self.tool = tool


class StorageError(WebshellError):
    """Read-only filesystem, disk full and the like inside the container."""

    code, status = "storage", 507


class LimitReached(WebshellError):
    code, status = "limit", 429


class WrongReplica(WebshellError):
    """The session lives on another replica: reconnect there (docs/PROTOCOL.md, `wrong_replica`)."""

    code, status = "wrong_replica", 409

    def __init__(self, replica: str, retry: float):
        super().__init__(f"this terminal runs on replica '{replica}': reconnect with the affinity cookie "
                         f"set to it (docs/PROTOCOL.md)")
        self.replica, self.retry = replica, retry

    def to_dict(self) -> dict:
        return {**super().to_dict(), "replica": self.replica, "retry": self.retry}


class Unavailable(WebshellError):
    """Many replicas: the shared state (Redis) cannot be reached, so no terminal can be counted."""

    code, status = "unavailable", 503


class ClusterUnavailable(WebshellError):
    code, status = "cluster_unavailable", 502


class TransferFailed(WebshellError):
    code, status = "transfer_failed", 502


class InternalError(WebshellError):
    """An unexpected failure: the details go to the log, the client sees only this."""
    code, status = "internal", 500


def wants_json() -> bool:
    """The one predicate: does this request get JSON errors (the API) rather than a page?"""
    from flask import request
    return request.path.startswith("/api/")


def error_json(code: str, message: str, status: int):
    """The one builder of every JSON error body: {"error": {"code", "message"}} with its status."""
    from flask import jsonify
    resp = jsonify(error={"code": code, "message": message})
    resp.status_code = status
    return resp


def register_handlers(app) -> None:
    """Answer WebshellError as JSON under /api/ and as a short page elsewhere."""
    from flask import render_template

    @app.errorhandler(WebshellError)
    def _handle(err: WebshellError):
        if wants_json():
            return error_json(err.code, err.message, err.status)
        return render_template("error.html", status=err.status, message=err.message), err.status

    from werkzeug.exceptions import HTTPException, InternalServerError

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        """Werkzeug's own errors (unknown URL, wrong method, ...) in the app's words and style."""
        if err.response is not None:     # one that brings its own answer (the login's address rate)
            return err.response
        if wants_json():
            return error_json((err.name or "error").lower().replace(" ", "_"), err.description or err.name,
                              err.code)
        return render_template("error.html", status=err.code, message=None), err.code

    @app.errorhandler(InternalServerError)
    def _internal(err: InternalServerError):
        if wants_json():
            return error_json("internal", "the server failed; the error is in its log", 500)
        return render_template("error.html", status=500, message=None), 500
