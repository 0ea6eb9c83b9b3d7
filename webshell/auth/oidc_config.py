"""Single sign-on settings: the OIDC providers (KWS_OIDC_PROVIDERS) and the group -> role mapping.

KWS_OIDC_PROVIDERS is a JSON list, one object per provider:

    [{"name": "corp", "label": "Corp SSO", "issuer": "https://sso.example.com",
      "client_id": "kube-webshell", "client_secret_file": "/run/secrets/oidc",
      "ca_file": "/etc/ssl/corp-ca.pem", "username_claim": "preferred_username",
      "groups_claim": "groups", "scopes": "openid email profile groups offline_access"}]

Only name, issuer and client_id are required; a public client (PKCE alone) has no secret.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DEFAULT_SCOPES = "openid email profile groups offline_access"


class OidcConfigError(ValueError):
    """KWS_OIDC_PROVIDERS or KWS_OIDC_GROUP_ROLES cannot be used; the message says why."""


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str | None
    ca_file: str | None
    scopes: str
    username_claim: str
    groups_claim: str

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_providers(raw: str) -> list[Provider]:
    """The providers of KWS_OIDC_PROVIDERS (empty: none); raises OidcConfigError with the reason."""
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
    except ValueError as e:
        raise OidcConfigError(f"KWS_OIDC_PROVIDERS is not valid JSON: {e}") from None
    if not isinstance(items, list):
        raise OidcConfigError("KWS_OIDC_PROVIDERS must be a JSON list of providers")
    out: list[Provider] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise OidcConfigError(f"KWS_OIDC_PROVIDERS[{i}] must be an object")
        out.append(_provider(i, item))
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise OidcConfigError("KWS_OIDC_PROVIDERS names two providers alike")
    return out


def _provider(i: int, item: dict) -> Provider:
    missing = [k for k in ("name", "issuer", "client_id") if not item.get(k)]
    if missing:
        raise OidcConfigError(f"KWS_OIDC_PROVIDERS[{i}] lacks {', '.join(missing)}")
    name = str(item["name"])
    if not NAME.match(name):
        raise OidcConfigError(f"KWS_OIDC_PROVIDERS[{i}]: name {name!r} must be lower-case letters, digits, '-'")
    issuer = str(item["issuer"])
    if not issuer.startswith("https://"):
        raise OidcConfigError(f"provider {name}: the issuer must be an https:// URL")
    secret = item.get("client_secret")
    if item.get("client_secret_file"):
        try:
            secret = Path(item["client_secret_file"]).read_text().strip()
        except OSError as e:
            raise OidcConfigError(f"provider {name}: cannot read client_secret_file: {e}") from None
    ca = item.get("ca_file")
    if ca and not Path(ca).is_file():
        raise OidcConfigError(f"provider {name}: ca_file {ca} does not exist")
    return Provider(name=name, label=str(item.get("label") or name), issuer=issuer,
                    client_id=str(item["client_id"]), client_secret=secret or None, ca_file=ca or None,
                    scopes=str(item.get("scopes") or DEFAULT_SCOPES),
                    username_claim=str(item.get("username_claim") or "preferred_username"),
                    groups_claim=str(item.get("groups_claim") or "groups"))


def parse_group_roles(items: list[str]) -> list[tuple[str, str]]:
    """KWS_OIDC_GROUP_ROLES entries `group=role`, in order."""
    out = []
    for item in items:
        group, sep, role = item.partition("=")
        if not sep or not group.strip() or not role.strip():
            raise OidcConfigError(f"KWS_OIDC_GROUP_ROLES entry {item!r} is not group=role")
        out.append((group.strip(), role.strip()))
    return out


def role_for(groups: list[str], mapping: list[tuple[str, str]]) -> str | None:
    """The role of the first mapping entry whose group the user is in, else None (no role)."""
    have = set(groups)
    return next((role for group, role in mapping if group in have), None)


def groups_of(claims: dict, claim: str) -> list[str]:
    """The groups claim as a list of strings (a single string counts as one group)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(g) for g in value if isinstance(g, (str, int))]
    return []
