"""How each cluster learns who acts (KWS_CLUSTER_AUTH): the console, the impersonated user, or their own token.

rules: the console's credentials, the console's rules decide. impersonate: the rules, then the
cluster as the user, with their role and IdP groups. token: the user's own ID token (from
their SSO login, refreshed through auth/oidc.py via app.extensions), and the cluster alone
decides; what the page offers comes from a rules review made with that token.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

from flask import Flask, current_app, g

from .errors import Forbidden
from .extensions import db
from .kube import headers as kube_headers
from .kube import review as kube_review
from .models import OidcIdentity, User

RULES, IMPERSONATE, TOKEN = "rules", "impersonate", "token"
MODES = (RULES, IMPERSONATE, TOKEN)


def mode(app: Flask, cluster: str | None) -> str:
    """The first KWS_CLUSTER_AUTH glob matching `cluster` names its mode; else KWS_IMPERSONATE decides."""
    for entry in app.config.get("CLUSTER_AUTH", []):
        pattern, _, m = entry.partition("=")
        if cluster is not None and fnmatchcase(cluster, pattern.strip()):
            return m.strip()
    return IMPERSONATE if app.config.get("IMPERSONATE") else RULES


def check_modes(app: Flask) -> None:
    """A mistyped KWS_CLUSTER_AUTH stops the start with the reason."""
    for entry in app.config.get("CLUSTER_AUTH", []):
        pattern, sep, m = entry.partition("=")
        if not sep or not pattern.strip() or m.strip() not in MODES:
            raise ValueError(f"KWS_CLUSTER_AUTH entry {entry!r} is not glob=rules|impersonate|token")


def token_user(account: User) -> bool:
    """Has this user an SSO login whose ID token the console may pass on?"""
    return db.session.execute(db.select(OidcIdentity.id).filter(
        OidcIdentity.user_id == account.id, OidcIdentity.id_token.is_not(None))).first() is not None


def idp_groups(account: User) -> list[str]:
    """The groups the provider named at the user's newest SSO login (none for local accounts)."""
    if account.id is None:
        return []
    row = db.session.execute(db.select(OidcIdentity.groups).filter_by(user_id=account.id)
                             .order_by(OidcIdentity.last_login_at.desc())).first()
    return list(row[0] or []) if row else []


def headers_for(app: Flask, account: User, cluster: str | None) -> dict[str, str] | None:
    """The headers that make `cluster` act as `account` (an active non-admin), or None by its mode."""
    m = mode(app, cluster)
    if m == TOKEN:
        bearer = app.extensions["kws.oidc_bearer"](account)
        if not bearer:
            raise Forbidden(_no_token(cluster))
        return {"Authorization": f"Bearer {bearer}"}
    if m != IMPERSONATE:
        return None
    groups = ([account.role] if account.role else []) + [x for x in idp_groups(account) if x != account.role]
    return kube_headers.with_values({"Impersonate-User": account.username}, "Impersonate-Group", groups)


def rules_allow(account: User, cluster: str, namespace: str, verb: str, resource: str) -> bool:
    """Token mode: may the user `verb` `resource` in `namespace`, by a rules review with their token?

    One review per user, namespace and request (cached in flask.g). The request's database
    session is closed first (loaded objects stay readable), as access.done_with_database does.
    """
    cache = g.setdefault("kws_cluster_rules", {})
    key = (account.id, cluster, namespace)
    if key not in cache:
        app = current_app._get_current_object()
        try:
            headers = headers_for(app, account, cluster)
        except Forbidden:    # no usable token (none, or the provider is away): check() says so
            note_no_token(cluster)
            return False
        db.session.close()      # the review is network I/O: no pooled connection is held across it
        cache[key] = kube_review.namespace_rules(app.extensions["kws.clusters"], cluster, namespace, headers)
    return kube_review.permits(cache[key], verb, resource)


def note_no_token(cluster: str) -> None:
    g.setdefault("kws_no_token", set()).add(cluster)


def refusal(cluster: str) -> str | None:
    """Why a token-mode check just failed, when it was the missing token (not the cluster's RBAC)."""
    return _no_token(cluster) if cluster in g.get("kws_no_token", ()) else None


def _no_token(cluster: str | None) -> str:
    from flask_babel import gettext
    try:
        return gettext("cluster '%(cluster)s' acts on your own sign-in: log in with single sign-on first",
                       cluster=cluster)
    except (RuntimeError, KeyError):
        return f"cluster '{cluster}' acts on your own sign-in: log in with single sign-on first"
