"""Network calls hold no pooled database connection: opening a log, token mode's rules review, the SSO refresh.

A request holding one across a slow cluster or provider would let 15 of them exhaust the
default pool (5 + 10 overflow) and stall every other request.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from webshell import access, clusterauth, create_app
from webshell.auth import oidc
from webshell.extensions import db
from webshell.models import OidcIdentity, User

from .conftest import TestConfig as UnitConfig

PROVIDER = {"name": "corp", "issuer": "https://sso.example.com", "client_id": "kws"}


class TokenConfig(UnitConfig):
    def __init__(self, instance):
        super().__init__(instance)
        self.OIDC_PROVIDERS = json.dumps([PROVIDER])
        self.CLUSTER_AUTH = ["*=token"]


def test_opening_a_log_holds_no_connection(app, client, auth, monkeypatch):
    """The API server may take up to the idle timeout to answer a log request: no connection waits with it."""
    from webshell.logs import views

    held = []

    class Stream:
        def __iter__(self):
            yield b"a line\n"

        def close(self):
            pass

    def open_logs(*args):
        held.append(db.engine.pool.checkedout())
        return Stream()
    monkeypatch.setattr(views.logs, "open_logs", open_logs)
    auth.login()
    r = client.get("/api/clusters/c/namespaces/ns/pods/p/logs", query_string={"follow": "1"})
    assert r.status_code == 200 and r.get_data() == b"a line\n"
    assert held == [0]


@pytest.fixture
def token_app(tmp_path):
    app = create_app(TokenConfig(tmp_path))
    with app.app_context():
        bob = User(username="bob")
        bob.set_password("unused-password")
        db.session.add(bob)
        db.session.flush()
        soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)     # within the refresh margin
        db.session.add(OidcIdentity(user_id=bob.id, provider="corp", subject="sub-bob", groups=[],
                                    id_token="old-id-token", refresh_token="refresh-1", expires_at=soon))
        db.session.commit()
    yield app
    app.extensions["kws.terminal"].shutdown()


class FakeProvider:
    """The provider's token endpoint: records how many pooled connections were out when called."""

    def __init__(self):
        self.held = []

    def fetch_access_token(self, grant_type, refresh_token):
        self.held.append(db.engine.pool.checkedout())
        assert (grant_type, refresh_token) == ("refresh_token", "refresh-1")
        return {"id_token": "new-id-token", "refresh_token": "refresh-2"}

    def parse_id_token(self, token, nonce):
        return {"sub": "sub-bob", "exp": int(dt.datetime.now(dt.timezone.utc).timestamp()) + 3600}


def _bob():
    return db.session.execute(db.select(User).filter_by(username="bob")).scalar_one()


def test_the_sso_refresh_holds_no_connection_and_stores_the_new_tokens(token_app, monkeypatch):
    provider = FakeProvider()
    monkeypatch.setattr(oidc, "_client", lambda name: provider)
    with token_app.test_request_context():
        bob = _bob()
        assert oidc.bearer_token(bob) == "new-id-token"
        assert bob.username == "bob"          # the loaded user stays readable
    assert provider.held == [0]
    with token_app.app_context():
        ident = db.session.execute(db.select(OidcIdentity)).scalar_one()
        assert (ident.id_token, ident.refresh_token) == ("new-id-token", "refresh-2")


def test_the_rules_review_holds_no_connection(token_app, monkeypatch):
    monkeypatch.setattr(oidc, "_client", lambda name: FakeProvider())
    held = []

    def review(reg, cluster, namespace, headers):
        held.append(db.engine.pool.checkedout())
        assert headers == {"Authorization": "Bearer new-id-token"}
        return [{"verbs": ["create"], "groups": [""], "resources": ["pods/exec"], "names": []}]
    monkeypatch.setattr(clusterauth.kube_review, "namespace_rules", review)
    with token_app.test_request_context():
        bob = _bob()
        assert access.allowed(bob, access.EXEC, "kws-local", "demo")
        assert not access.allowed(bob, access.LOGS, "kws-local", "demo")    # the same review, cached
        assert bob.is_active and bob.username == "bob"
    assert held == [0]
