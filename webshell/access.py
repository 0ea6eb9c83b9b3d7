"""Who may do what: one place that every listing, terminal and transfer asks.

Rules (models.Rule) grant a user, or everyone with a role, the clusters and namespaces
matching glob patterns; seeing them is implied, exec/upload/download are flags. Nothing
is allowed without a rule, except to admins, who may do everything the console's own
credentials allow. In impersonation mode (KWS_IMPERSONATE=1) the console also asks the
cluster to act as the web user, so the cluster's RBAC decides on top of the rules.
"""
from __future__ import annotations

import logging
import threading
import time
from fnmatch import fnmatchcase

from flask import Flask, current_app, has_app_context, has_request_context, request

from . import clusterauth, logsafe, metrics
from .errors import Forbidden
from .extensions import db
from .models import AuditEvent, Rule, User

log = logging.getLogger("webshell.audit")

# Actions checked by callers.
LIST, EXEC, UPLOAD, DOWNLOAD, DEBUG, LOGS = "list", "exec", "upload", "download", "debug", "logs"
_FLAGS = {EXEC: "can_exec", UPLOAD: "can_upload", DOWNLOAD: "can_download", DEBUG: "can_debug", LOGS: "can_logs"}
_COLUMNS = ("cluster", "namespace", "pod")
_app: Flask | None = None
# Audit events that could not be stored even after retries (for /api/stats and metrics).
LOST = {"events": 0}
_lost_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Remember the app so that audit events from background greenlets reach the database."""
    global _app
    _app = app
    clusterauth.check_modes(app)   # a mistyped KWS_CLUSTER_AUTH stops the start with the reason


def _account(user) -> User | None:
    """A logged-in, active User behind `user` (a User, current_user, or None)."""
    user = getattr(user, "_get_current_object", lambda: user)()
    if isinstance(user, User) and user.is_active:
        return user
    return None


def is_admin(user) -> bool:
    """The one test of admin rights: an active, logged-in account with the admin flag."""
    account = _account(user)
    return account is not None and account.is_admin


def done_with_database() -> None:
    """End this request's database work before slow I/O (Kubernetes, the network).

    The request's session gives its connection back to the pool; objects already loaded
    (current_user) stay readable. Nothing may hold a pooled connection while an exec
    connects or a transfer streams: 15 slow opens at once would exhaust the pool.
    """
    db.session.close()


def rules_for(user: User) -> list[Rule]:
    conds = [Rule.user_id == user.id] + ([Rule.role == user.role] if user.role else [])
    return list(db.session.execute(db.select(Rule).where(db.or_(*conds))).scalars())


def _grants(rule: Rule, action: str, cluster: str, namespace: str | None) -> bool:
    if not fnmatchcase(cluster, rule.clusters):
        return False
    if namespace is not None and not fnmatchcase(namespace, rule.namespaces):
        return False
    return action == LIST or bool(getattr(rule, _FLAGS[action]))


def allowed(user, action: str, cluster: str, namespace: str | None = None) -> bool:
    """May `user` do `action` in cluster (and namespace, when given)? Without a namespace: anywhere in it."""
    if action != LIST and action not in _FLAGS:
        raise ValueError(f"unknown action {action!r}")
    account = _account(user)
    if account is None:
        return False
    if account.is_admin:
        return True
    if _token_mode(cluster):      # the cluster's RBAC decides, on the user's own token
        return _cluster_allows(account, action, cluster, namespace)
    return any(_grants(r, action, cluster, namespace) for r in rules_for(account))


def granting(user, action: str, cluster: str, namespace: str) -> list[Rule] | None:
    """The rules that let `user` do `action` in cluster/namespace; None for an active admin (everything)."""
    account = _account(user)
    if account is not None and account.is_admin:
        return None
    return [r for r in rules_for(account) if _grants(r, action, cluster, namespace)] if account else []


def check(user, action: str, cluster: str, namespace: str | None = None) -> None:
    """Raise errors.Forbidden unless `user` may do `action` in cluster/namespace (and audit the denial)."""
    if allowed(user, action, cluster, namespace):
        return
    audit("access.denied", user, action=action, cluster=cluster, namespace=namespace)
    raise Forbidden((_token_mode(cluster) and clusterauth.refusal(cluster)) or _denied(action, cluster, namespace))


def _denied(action: str, cluster: str, namespace: str | None) -> str:
    """The refusal in the request's language (English outside a request)."""
    from flask_babel import gettext, lazy_gettext as _l  # noqa: F401 - _l marks the verbs for extraction
    verbs = {LIST: _l("see"), EXEC: _l("exec"), UPLOAD: _l("upload"), DOWNLOAD: _l("download"), LOGS: _l("read logs")}
    try:
        verb = str(verbs[action])
        if namespace:
            return gettext("you may not %(verb)s in namespace '%(ns)s' of cluster '%(cluster)s'",
                           verb=verb, ns=namespace, cluster=cluster)
        return gettext("you may not %(verb)s in cluster '%(cluster)s'", verb=verb, cluster=cluster)
    except (RuntimeError, KeyError):   # no app or request context: the plain English words
        where = f"namespace '{namespace}' of cluster '{cluster}'" if namespace else f"cluster '{cluster}'"
        verb = {LIST: "see", LOGS: "read logs"}.get(action, action)
        return f"you may not {verb} in {where}"


def visible(user, cluster: str, namespaces: list[str]) -> list[str]:
    """The namespaces of `cluster` that `user` may see."""
    account = _account(user)
    if account is None:
        return []
    if account.is_admin:
        return list(namespaces)
    if _token_mode(cluster):
        return [ns for ns in namespaces if _cluster_allows(account, LIST, cluster, ns)]
    rules = [r for r in rules_for(account) if fnmatchcase(cluster, r.clusters)]
    return [ns for ns in namespaces if any(fnmatchcase(ns, r.namespaces) for r in rules)]


def visible_clusters(user, clusters: list[str]) -> list[str]:
    """The clusters `user` may see at least one namespace of."""
    return [c for c in clusters if allowed(user, LIST, c)]


# What each action needs from the cluster's RBAC in token mode (files go through exec).
_CLUSTER_NEEDS = {LIST: ("list", "pods"), EXEC: ("create", "pods/exec"), UPLOAD: ("create", "pods/exec"),
                  DOWNLOAD: ("create", "pods/exec"), DEBUG: ("patch", "pods/ephemeralcontainers"),
                  LOGS: ("get", "pods/log")}


def _token_mode(cluster: str) -> bool:
    app = current_app if has_app_context() else _app
    return app is not None and clusterauth.mode(app, cluster) == clusterauth.TOKEN


def _cluster_allows(account: User, action: str, cluster: str, namespace: str | None) -> bool:
    """Token mode: the cluster's RBAC decides (asked with the user's own token), no rule needed."""
    if not clusterauth.token_user(account):
        clusterauth.note_no_token(cluster)
        return False
    if namespace is None:       # somewhere in the cluster: the cluster says where, namespace by namespace
        return True
    return clusterauth.rules_allow(account, cluster, namespace, *_CLUSTER_NEEDS[action])


def impersonation(user, cluster: str | None = None) -> dict[str, str] | None:
    """Extra headers that make `cluster` act as `user`, or None (the console's own identity).

    Admins act with the console's own identity. Otherwise, by the cluster's mode
    (webshell/clusterauth.py): impersonate sends the user name and, as groups, the role and
    the IdP groups; token sends the user's own ID token (Forbidden when they have none).
    """
    account = _account(user)
    app = current_app if has_app_context() else _app
    if account is None or app is None or account.is_admin:
        return None
    return clusterauth.headers_for(app, account, cluster)


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def audit(event: str, user, **fields) -> None:
    """Record an audit event in the database (never keystrokes, passwords, tokens or file contents).

    `user` is a User, current_user, a user id (str/int), a user name (a Name when it came from a
    client: all digits stays a name), or None.
    Known columns (cluster, namespace, pod) are searchable; other fields go to `detail`.
    """
    user = getattr(user, "_get_current_object", lambda: user)()
    ip = request.remote_addr if has_request_context() else None
    metrics.from_audit(event, fields, request.environ.get("kws.started") if has_request_context() else None)
    app = current_app._get_current_object() if has_app_context() else _app
    name = getattr(user, "username", None)
    try:
        if app is None:
            return
        tries = max(1, app.config["AUDIT_RETRIES"])
        for attempt in range(tries):
            try:
                # Its own app context, so its own database session: the caller's transaction is left alone.
                with app.app_context():
                    uid, name = _identify(user)
                    row = AuditEvent(event=event, user_id=uid, username=name, ip=ip,
                                     **{k: _plain(fields.get(k)) for k in _COLUMNS})
                    row.detail = {k: _plain(v) for k, v in fields.items() if v is not None and k not in _COLUMNS}
                    db.session.add(row)
                    db.session.commit()
                return
            except Exception:  # noqa: BLE001 - auditing must never break the action it records
                if attempt + 1 < tries:
                    log.warning("audit event %s not stored (try %s of %s): retrying", event, attempt + 1, tries,
                                exc_info=True)
                    time.sleep(app.config["AUDIT_RETRY_DELAY"] * (attempt + 1))
                    continue
                with _lost_lock:
                    LOST["events"] += 1
                metrics.AUDIT_FAILURES.inc()
                log.exception("could not store audit event %s: lost (%s lost so far)", event, LOST["events"])
    finally:   # the user's name once known (a session's owner arrives as its id); JSON logs carry it
        # Every value quoted (webshell.logsafe): a name with a newline stays on one log line.
        log.info("audit %s user=%s %s", event, name if name is not None else user, logsafe.fields(**fields),
                 extra={"kws_user": name})


class Name(str):
    """A user name as typed (a login form's): never read as a user id, even when it is all digits."""


def _identify(user) -> tuple[int | None, str | None]:
    if isinstance(user, Name):
        found = db.session.execute(db.select(User.id).filter_by(username=str(user))).scalar_one_or_none()
        return found, str(user)
    if isinstance(user, User):
        return user.id, user.username
    if getattr(user, "uid", None) is not None and getattr(user, "username", None):   # a socket identity
        return (int(user.uid) if str(user.uid).isdigit() else None), user.username
    if isinstance(user, int) or (isinstance(user, str) and user.isdigit()):
        found = db.session.get(User, int(user))
        return int(user), found.username if found else None
    if isinstance(user, str):
        return None, user
    return None, None
