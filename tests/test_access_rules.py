"""Rule matching, migrations and cookie flags, in process on a throwaway SQLite database (no cluster)."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from webshell import access, schema
from webshell.errors import Forbidden
from webshell.extensions import db
from webshell.models import Rule, User


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("KWS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("KWS_ADMIN_PASSWORD", "admin-unit-password")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("KWS_ASYNC_MODE", "threading")
    monkeypatch.setenv("KWS_RECORD", "0")
    from webshell import create_app
    return create_app()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _user(name: str, role: str | None = None, admin: bool = False, *rules: dict) -> User:
    u = User(username=name, role=role, is_admin=admin)
    u.set_password("x" * 12)
    db.session.add(u)
    for r in rules:
        db.session.add(Rule(user=u, **r))
    db.session.commit()
    return u


def test_rules_match_globs_flags_and_roles(ctx):
    db.session.add(Rule(role="ops", clusters="prod-*", namespaces="*", can_download=True))
    alice = _user("alice", "ops", False, {"clusters": "*", "namespaces": "team-?", "can_exec": True})
    nobody = _user("nobody")
    root = _user("root", admin=True)
    assert access.allowed(alice, access.EXEC, "dev", "team-a")
    assert not access.allowed(alice, access.EXEC, "dev", "team-ab")
    assert not access.allowed(alice, access.UPLOAD, "dev", "team-a")
    assert access.allowed(alice, access.LIST, "prod-eu", "kube-system")        # via the role
    assert access.allowed(alice, access.DOWNLOAD, "prod-eu", "kube-system")
    assert not access.allowed(alice, access.DOWNLOAD, "dev", "team-a")
    assert access.visible(alice, "dev", ["team-a", "team-b", "demo", "team-xy"]) == ["team-a", "team-b"]
    assert access.visible_clusters(alice, ["dev", "prod-eu"]) == ["dev", "prod-eu"]
    assert access.visible_clusters(nobody, ["dev", "prod-eu"]) == []
    assert access.allowed(root, access.UPLOAD, "anything", "anywhere")
    with pytest.raises(Forbidden):
        access.check(nobody, access.LIST, "dev")
    alice.disabled = True
    db.session.commit()
    assert not access.allowed(alice, access.EXEC, "dev", "team-a")
    assert not access.allowed(None, access.LIST, "dev")
    with pytest.raises(ValueError):
        access.allowed(root, "delete", "dev")
    denied = db.session.execute(db.text("select event, username, cluster from audit_events")).all()
    assert ("access.denied", "nobody", "dev") in denied


def test_fresh_database_is_migrated_and_old_one_is_adopted(ctx):
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "rules", "api_tokens", "audit_events", "alembic_version"} <= tables
    version = db.session.execute(db.text("select version_num from alembic_version")).scalar()
    assert version == "0007_last_login"
    assert "can_logs" in {c["name"] for c in inspect(db.engine).get_columns("rules")}
    # A database made by create_all() before migrations existed: users only, no version table.
    db.session.execute(db.text("drop table rules"))
    db.session.execute(db.text("drop table api_tokens"))
    db.session.execute(db.text("drop table audit_events"))
    db.session.execute(db.text("drop table oidc_identities"))
    db.session.execute(db.text("drop table alembic_version"))
    db.session.execute(db.text("alter table users drop column role"))
    db.session.execute(db.text("alter table users drop column session_version"))
    db.session.execute(db.text("alter table users drop column last_login_at"))
    db.session.commit()
    schema.upgrade_to_head()
    assert {"rules", "api_tokens", "audit_events"} <= set(inspect(db.engine).get_table_names())
    assert db.session.execute(db.text("select username from users")).scalars().all() == ["admin"]


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app):
    client = app.test_client()
    plain = client.get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = app.test_client().get("/login", base_url="https://localhost").headers.get("Set-Cookie", "")
    assert "HttpOnly" in secure and "Secure" in secure
