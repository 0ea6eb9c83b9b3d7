"""Single sign-on: "Sign in with <provider>" through Authlib (Authorization Code with PKCE).

Authlib keeps the state, the nonce and the PKCE verifier in the session and checks them on
the way back; the ID token's signature, issuer, audience and nonce are validated before a
user exists. Users are created at their first login (linked by provider + subject, never by
name), and their role and admin flag follow the groups claim at every login. The tokens are
kept for token pass-through (access.py asks for a fresh ID token through app.extensions).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import login_user
from requests import RequestException

from .. import access
from ..extensions import db
from ..models import OidcIdentity, User, now
from . import revocation
from .oidc_config import OidcConfigError, Provider, groups_of, parse_group_roles, parse_providers, role_for

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__)
NEXT_KEY = "kws_sso_next"
END_KEY = "kws_sso_end"      # the provider's end-session link, offered on the login page after logout


class _Session(OAuth2Session):
    """requests lets REQUESTS_CA_BUNDLE in the environment win over a session's `verify`:
    a provider's own ca_file must win, so every request names it."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


class _App(FlaskOAuth2App):
    client_cls = _Session


class _OAuth(OAuth):
    oauth2_client_cls = _App


def init_app(app: Flask) -> None:
    """Register every configured provider with Authlib; a bad setting stops the start with the reason."""
    providers = parse_providers(app.config["OIDC_PROVIDERS"])
    if not providers and not app.config["LOCAL_LOGIN"]:
        raise OidcConfigError("KWS_LOCAL_LOGIN=0 needs a provider in KWS_OIDC_PROVIDERS: no one could log in")
    app.extensions["kws.oidc_group_roles"] = parse_group_roles(app.config["OIDC_GROUP_ROLES"])
    app.extensions["kws.oidc_providers"] = {p.name: p for p in providers}
    oauth = app.extensions["kws.oauth"] = _OAuth(app)
    for p in providers:
        oauth.register(p.name, client_id=p.client_id, client_secret=p.client_secret,
                       server_metadata_url=p.metadata_url,
                       client_kwargs={"scope": p.scopes, "code_challenge_method": "S256",
                                      "token_endpoint_auth_method": "client_secret_basic" if p.client_secret
                                      else "none",
                                      "verify": p.ca_file or True, "default_timeout": app.config["OIDC_TIMEOUT"]})
    app.extensions["kws.oidc_bearer"] = bearer_token
    app.register_blueprint(bp)


def providers() -> list[Provider]:
    return list(current_app.extensions.get("kws.oidc_providers", {}).values())


def _provider(name: str) -> Provider:
    p = current_app.extensions["kws.oidc_providers"].get(name)
    if p is None:
        abort(404)
    return p


def _client(name: str):
    return current_app.extensions["kws.oauth"].create_client(name)


@bp.get("/login/sso/<name>")
def start(name: str):
    from flask import request

    from .views import _safe_next
    _provider(name)
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    try:
        return _client(name).authorize_redirect(url_for("oidc.callback", name=name, _external=True))
    except (RequestException, OAuthError, ValueError) as e:   # discovery failed: the provider is down
        log.warning("sso: provider %s unreachable: %s", name, e)
        return _refuse(gettext("%(provider)s cannot be reached right now. Try again later.",
                               provider=_provider(name).label), 502)


@bp.get("/login/sso/<name>/callback")
def callback(name: str):
    p = _provider(name)
    try:
        token = _client(name).authorize_access_token()
    except OAuthError as e:      # a wrong or replayed state, a refused code, a bad ID token or nonce
        log.info("sso: login at %s refused: %s", name, e.error)
        access.audit("login.failed", None, provider=name, why=str(e.error))
        return _refuse(gettext("Sign-in with %(provider)s failed. Try again.", provider=p.label), 401)
    except (RequestException, ValueError) as e:
        log.warning("sso: provider %s failed during the login: %s", name, e)
        return _refuse(gettext("%(provider)s cannot be reached right now. Try again later.", provider=p.label), 502)
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        access.audit("login.failed", None, provider=name, why="no ID token")
        return _refuse(gettext("Sign-in with %(provider)s failed. Try again.", provider=p.label), 401)
    user, groups = _provision(p, claims, token)
    if not user.is_active:
        db.session.rollback()
        access.audit("login.failed", user, provider=name, why="account disabled")
        return _refuse(gettext("Wrong user name or password, or the account is disabled."), 403)
    user.last_login_at = now()
    db.session.commit()
    login_user(user)
    revocation.remember(user)
    log.info("login: user=%s provider=%s", user.username, name)
    access.audit("login", user, provider=name, groups=",".join(groups), role=user.role)
    return redirect(session.pop(NEXT_KEY, None) or url_for("pods.console"))


def _refuse(message: str, status: int):
    flash(message)
    return render_template("login.html", next="", **login_page_context()), status


def _provision(p: Provider, claims: dict, token: dict) -> tuple[User, list[str]]:
    """The user behind these claims (created at the first login); role and admin flag from the groups."""
    ident = db.session.execute(db.select(OidcIdentity).filter_by(provider=p.name, subject=str(claims["sub"]))
                               ).scalar_one_or_none()
    if ident is None:
        user = User(username=_free_name(p, claims), is_admin=False)
        user.set_password(secrets.token_urlsafe(32))   # never told to anyone: SSO users have no password
        ident = OidcIdentity(user=user, provider=p.name, subject=str(claims["sub"]))
        db.session.add(ident)
        log.info("sso: new user %s from %s", user.username, p.name)
    user = ident.user
    groups = groups_of(claims, p.groups_claim)
    user.role = role_for(groups, current_app.extensions["kws.oidc_group_roles"])
    admin_groups = set(current_app.config["OIDC_ADMIN_GROUPS"])
    if admin_groups:
        user.is_admin = bool(admin_groups & set(groups))
    ident.groups = groups
    ident.last_login_at = now()
    _store_tokens(ident, token, claims)
    return user, groups


def _free_name(p: Provider, claims: dict) -> str:
    """The provider's user name, unless a local account has it: then name@provider (never a takeover)."""
    base = str(claims.get(p.username_claim) or claims.get("email") or claims["sub"])[:60]
    for candidate in (base, f"{base}@{p.name}", *(f"{base}@{p.name}-{i}" for i in range(2, 100))):
        if db.session.execute(db.select(User.id).filter_by(username=candidate)).first() is None:
            return candidate
    raise OAuthError(description="no free user name")


def _store_tokens(ident: OidcIdentity, token: dict, claims: dict) -> None:
    ident.id_token = token.get("id_token")
    if token.get("refresh_token"):
        ident.refresh_token = token["refresh_token"]
    exp = claims.get("exp")
    ident.expires_at = dt.datetime.fromtimestamp(int(exp), dt.timezone.utc) if exp else None


def _newest_identity(user: User) -> OidcIdentity | None:
    return db.session.execute(db.select(OidcIdentity).filter_by(user_id=user.id)
                              .order_by(OidcIdentity.last_login_at.desc())).scalars().first()


def bearer_token(user: User) -> str | None:
    """The user's ID token for the API server, refreshed when it expires within KWS_OIDC_REFRESH_MARGIN.

    None when the user has no SSO login (or it ended): the cluster cannot be called as them.
    The request's database session is closed before the provider is called (loaded objects
    stay readable).
    """
    ident = _newest_identity(user)
    if ident is None or not ident.id_token or ident.provider not in current_app.extensions["kws.oidc_providers"]:
        return None
    expires = ident.expires_at if ident.expires_at is None or ident.expires_at.tzinfo else \
        ident.expires_at.replace(tzinfo=dt.timezone.utc)
    margin = dt.timedelta(seconds=current_app.config["OIDC_REFRESH_MARGIN"])
    if expires is not None and expires - margin > now():
        return ident.id_token
    if not ident.refresh_token:
        return None
    ident_id, provider, subject, refresh = ident.id, ident.provider, ident.subject, ident.refresh_token
    username = user.username
    db.session.close()      # the provider is network I/O: no pooled connection is held across it
    client = _client(provider)
    try:
        token = client.fetch_access_token(grant_type="refresh_token", refresh_token=refresh)
        claims = client.parse_id_token(token, nonce=None)
    except RequestException as e:      # the provider is unreachable now: try again at the next call
        log.warning("sso: cannot refresh the token of %s: %s unreachable: %s", username, provider, e)
        return None
    except (OAuthError, ValueError) as e:
        log.info("sso: refreshing the token of %s at %s refused: %s", username, provider, e)
        ident = db.session.get(OidcIdentity, ident_id)
        if ident is not None:       # the login at the provider ended: no more pass-through
            ident.id_token = ident.refresh_token = None
            db.session.commit()
        return None
    if not claims or str(claims.get("sub")) != subject:
        return None
    ident = db.session.get(OidcIdentity, ident_id)       # read again: the user may have logged out meanwhile
    if ident is None or ident.refresh_token is None:
        return None
    _store_tokens(ident, token, claims)
    fresh = ident.id_token
    db.session.commit()
    log.info("sso: refreshed the ID token of %s at %s", username, provider)
    return fresh


def sign_out(user: User) -> dict | None:
    """Forget the user's provider tokens; the provider's end-session link when it has one."""
    ident = _newest_identity(user)
    if ident is None:
        return None
    hint = ident.id_token
    for row in user.oidc_identities:
        row.id_token = row.refresh_token = None
    p = current_app.extensions["kws.oidc_providers"].get(ident.provider)
    if p is None:
        return None
    try:
        metadata = _client(p.name).load_server_metadata()
    except (RequestException, ValueError):
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    url = _client(p.name).create_logout_url(post_logout_redirect_uri=url_for("auth.login_form", _external=True),
                                            id_token_hint=hint)["url"]
    return {"url": url, "label": p.label}


def login_page_context() -> dict:
    """What the login page shows besides the form: provider buttons, and whether the form is on."""
    return {"sso_providers": providers(), "local_login": current_app.config["LOCAL_LOGIN"],
            "sso_end": session.pop(END_KEY, None)}
