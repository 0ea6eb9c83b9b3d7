"""KWS_OIDC_PROVIDERS and KWS_OIDC_GROUP_ROLES: parsed, checked, and mapped (no provider needed)."""
from __future__ import annotations

import json

import pytest

from webshell.auth.oidc_config import (OidcConfigError, groups_of, parse_group_roles, parse_providers,
                                       role_for)


def test_providers_parse_with_defaults_and_a_secret_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    ps = parse_providers(json.dumps([
        {"name": "corp", "issuer": "https://sso.example.com", "client_id": "kws", "client_secret_file": str(secret)},
        {"name": "pub", "label": "Public", "issuer": "https://id.example.org/", "client_id": "kws-pub",
         "groups_claim": "roles", "username_claim": "email"}]))
    assert [(p.name, p.label, p.client_secret) for p in ps] == [("corp", "corp", "s3cret"), ("pub", "Public", None)]
    assert ps[0].metadata_url == "https://sso.example.com/.well-known/openid-configuration"
    assert ps[1].metadata_url == "https://id.example.org/.well-known/openid-configuration"
    assert "offline_access" in ps[0].scopes and ps[1].groups_claim == "roles"
    assert parse_providers("") == []


@pytest.mark.parametrize("raw, why", [
    ("{", "not valid JSON"), ('{"name": "x"}', "JSON list"),
    ('[{"name": "x", "issuer": "https://a"}]', "lacks client_id"),
    ('[{"name": "X Y", "issuer": "https://a", "client_id": "c"}]', "lower-case"),
    ('[{"name": "x", "issuer": "http://a", "client_id": "c"}]', "https://"),
    ('[{"name": "x", "issuer": "https://a", "client_id": "c"}, {"name": "x", "issuer": "https://b", "client_id": "c"}]',
     "two providers alike"),
    ('[{"name": "x", "issuer": "https://a", "client_id": "c", "ca_file": "/nonexistent/ca.pem"}]', "does not exist"),
])
def test_bad_provider_settings_say_why(raw, why):
    with pytest.raises(OidcConfigError, match=why):
        parse_providers(raw)


def test_groups_map_to_the_first_matching_role():
    mapping = parse_group_roles(["admins=ops", "team-a=devs", "team-b=devs-b"])
    assert role_for(["team-b", "team-a"], mapping) == "devs"
    assert role_for(["admins", "team-a"], mapping) == "ops"
    assert role_for([], mapping) is None
    with pytest.raises(OidcConfigError, match="group=role"):
        parse_group_roles(["team-a"])


def test_groups_claim_accepts_a_list_or_one_string():
    assert groups_of({"groups": ["a", "b"]}, "groups") == ["a", "b"]
    assert groups_of({"groups": "a"}, "groups") == ["a"]
    assert groups_of({"groups": {"a": 1}}, "groups") == []
    assert groups_of({}, "groups") == []


def test_switching_local_logins_off_without_a_provider_stops_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("KWS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("KWS_ASYNC_MODE", "threading")
    monkeypatch.setenv("KWS_LOCAL_LOGIN", "0")
    from webshell import create_app
    from webshell.config import Config
    cfg = Config()
    cfg.PREPARE_DATABASE = False
    with pytest.raises(OidcConfigError, match="needs a provider"):
        create_app(cfg)


def test_cluster_modes_match_globs_in_order_and_bad_entries_are_refused():
    from flask import Flask

    from webshell import clusterauth
    app = Flask(__name__)
    app.config.update(CLUSTER_AUTH=["prod-*=token", "*=impersonate"], IMPERSONATE=False)
    assert clusterauth.mode(app, "prod-eu") == "token" and clusterauth.mode(app, "dev") == "impersonate"
    app.config.update(CLUSTER_AUTH=[], IMPERSONATE=True)
    assert clusterauth.mode(app, "dev") == "impersonate"
    app.config.update(IMPERSONATE=False)
    assert clusterauth.mode(app, "dev") == "rules"
    for bad in (["prod"], ["prod=tokens"], ["=token"]):
        app.config["CLUSTER_AUTH"] = bad
        with pytest.raises(ValueError, match="glob=rules"):
            clusterauth.check_modes(app)
