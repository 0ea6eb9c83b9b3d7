"""Every CLI command through Flask's CLI runner: what it changes in the database, and one refusal each.

(tests/test_cli_database.py keeps the subprocess test of which database a command opens.)
"""
from __future__ import annotations

from webshell.auth import tokens
from webshell.extensions import db
from webshell.models import ApiToken, AuditEvent, Rule, User

PW = "a-long-password\n"


def run(runner, *args, input=None, ok=True):
    r = runner.invoke(args=list(args), input=input)
    assert (r.exit_code == 0) == ok, r.output
    return r


def user(app, name: str) -> User | None:
    with app.app_context():
        u = db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()
        if u is not None:
            db.session.expunge(u)
        return u


def audited(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [(e.event, (e.detail or {}).get("target")) for e in
                db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_user_commands_change_the_account(app, runner):
    run(runner, "create-user", "dora", "--role", "team-a", "--password-stdin", input=PW)
    before = user(app, "dora").session_version

    run(runner, "reset-password", "dora", "--password-stdin", input="another-password\n")
    dora = user(app, "dora")
    assert dora.check_password("another-password") and not dora.check_password(PW.strip())
    assert dora.session_version > before            # cookies of the old password stop working
    run(runner, "reset-password", "dora", "--password-stdin", input="short\n", ok=False)
    assert user(app, "dora").check_password("another-password")

    run(runner, "disable-user", "dora")
    assert user(app, "dora").disabled and not user(app, "dora").is_active
    assert "disabled" in run(runner, "list-users").output
    run(runner, "enable-user", "dora")
    assert user(app, "dora").is_active

    r = run(runner, "set-role", "dora", "team-b", "--admin")
    assert "role team-b, admin yes" in r.output
    assert (user(app, "dora").role, user(app, "dora").is_admin) == ("team-b", True)
    run(runner, "set-role", "dora", "--no-admin")
    assert (user(app, "dora").role, user(app, "dora").is_admin) == (None, False)
    run(runner, "set-role", "dora", "bad role!", ok=False)

    run(runner, "delete-user", "dora")
    assert user(app, "dora") is None
    for command in ("disable-user", "enable-user", "delete-user"):
        assert "no user 'dora'" in run(runner, command, "dora", ok=False).output
    assert [e for e in audited(app) if e[1] == "dora"] == [
        ("user.create", "dora"), ("user.password", "dora"), ("user.disable", "dora"), ("user.enable", "dora"),
        ("user.role", "dora"), ("user.role", "dora"), ("user.delete", "dora")]


def test_rule_commands_add_list_and_delete(app, runner):
    r = run(runner, "add-rule", "--user", "alice", "--namespaces", "team-*", "--exec", "--logs")
    assert "added rule" in r.output
    run(runner, "add-rule", "--role", "ops", "--clusters", "prod-*", "--download")
    run(runner, "add-rule", "--user", "alice", "--role", "ops", ok=False)     # exactly one of them
    run(runner, "add-rule", "--user", "nobody", ok=False)
    with app.app_context():
        rules = list(db.session.execute(db.select(Rule).order_by(Rule.id)).scalars())
        got = [(r.user.username if r.user else None, r.role, r.clusters, r.namespaces, r.can_exec, r.can_logs,
                r.can_download) for r in rules]
        first, described = rules[0].id, [r.describe() for r in rules]
    assert got == [("alice", None, "*", "team-*", True, True, False), (None, "ops", "prod-*", "*", False, False, True)]
    listed = run(runner, "list-rules").stdout.splitlines()
    assert listed == described

    run(runner, "delete-rule", str(first))
    assert run(runner, "list-rules").stdout.splitlines() == described[1:]
    assert f"no rule #{first}" in run(runner, "delete-rule", str(first), ok=False).output
    assert [e for e, _ in audited(app) if e.startswith("rule.")] == ["rule.add", "rule.add", "rule.delete"]


def test_token_commands_issue_list_and_revoke(app, runner):
    r = run(runner, "create-token", "alice", "--name", "ci", "--days", "2")
    secret = r.stdout.strip().splitlines()[-1]
    with app.app_context():
        token = tokens.authenticate(secret)
        assert token is not None and token.user.username == "alice" and token.name == "ci"
        token_id = token.id
    listed = run(runner, "list-tokens", "alice").stdout
    assert f"#{token_id}\talice\tci\t" in listed and secret not in listed
    assert run(runner, "list-tokens", "admin").stdout.strip() == ""
    run(runner, "create-token", "nobody", ok=False)

    run(runner, "revoke-token", str(token_id))
    with app.app_context():
        assert tokens.authenticate(secret) is None
        assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert f"no token #{token_id + 1}" in run(runner, "revoke-token", str(token_id + 1), ok=False).output
    assert [e for e, _ in audited(app) if e.startswith("token.")] == ["token.create", "token.revoke"]
