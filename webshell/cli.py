"""Flask CLI commands: users, access rules and API tokens (`flask --app webshell <command>`)."""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask

from . import access
from .auth import revocation, tokens
from .auth.accounts import USERNAME
from .extensions import db
from .models import ApiToken, Rule, User



def _user(username: str) -> User:
    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user '{username}'")
    return user


def _password(from_stdin: bool) -> str:
    password = sys.stdin.readline().rstrip("\n") if from_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    return password


def _role(role: str | None) -> str | None:
    if role and not USERNAME.match(role):
        raise click.ClickException("a role is letters, digits, '.', '_', '@' or '-'")
    return role or None


def init_app(app: Flask, prepare: Callable[[Flask], None]) -> None:
    """Register the commands; each says which database it uses and `prepare`s it (migrate, first admin)."""
    others = set(app.cli.commands)
    users(app)
    rules(app)
    token_commands(app)
    for name, command in app.cli.commands.items():
        if name not in others:
            _guard_database(app, command, prepare)


# -- which database: a command never silently makes a new one --------------------------------
def loading() -> bool:
    """True while the flask CLI builds the app: the command prepares the database, not create_app."""
    return click.get_current_context(silent=True) is not None


def _guard_database(app: Flask, command: click.Command, prepare: Callable[[Flask], None]) -> None:
    command.params.append(click.Option(
        ["--create-database"], is_flag=True,
        help="create the database (and its first admin) when there is none yet at the configured place"))
    inner = command.callback

    @functools.wraps(inner)
    def callback(*args, create_database: bool, **kwargs):
        open_database(app, create_database, prepare)
        return inner(*args, **kwargs)
    command.callback = callback


def open_database(app: Flask, create: bool, prepare: Callable[[Flask], None]) -> None:
    """Say which database this command uses; refuse a missing one unless `create`; then migrate it."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    shown = url.render_as_string(hide_password=True)
    click.echo(f"database: {shown}", err=True)
    with app.app_context():
        if url.get_backend_name() == "sqlite":
            path = url.database or ""
            exists = path not in ("", ":memory:") and Path(path).is_file() and Path(path).stat().st_size > 0
        else:
            exists = False
        if exists or url.get_backend_name() != "sqlite":
            exists = "users" in inspect(db.engine).get_table_names()
    if not exists and not create:
        raise click.ClickException(
            f"there is no console database at {shown}. The server makes it at its first start: run this "
            "command with the server's settings (KWS_INSTANCE_DIR or KWS_DATABASE_URL), or pass "
            "--create-database to make a new, empty one here")
    if not exists:
        click.echo(f"creating a new database at {shown}", err=True)
    prepare(app)


def users(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--admin", is_flag=True, help="grant admin rights")
    @click.option("--role", help="a role that access rules may name")
    @click.option("--password-stdin", is_flag=True, help="read the password from standard input")
    def create_user(username: str, admin: bool, role: str | None, password_stdin: bool) -> None:
        """Create a user (prompts for the password)."""
        if not USERNAME.match(username):
            raise click.ClickException("a user name is a letter, then letters, digits, '.', '_', '@' or '-' (80 at most)")
        if db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none():
            raise click.ClickException(f"user '{username}' exists")
        user = User(username=username, is_admin=admin, role=_role(role))
        user.set_password(_password(password_stdin))
        db.session.add(user)
        db.session.commit()
        access.audit("user.create", "(cli)", target=username, admin=admin, role=role)
        click.echo(f"created user '{username}'")

    @app.cli.command("reset-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="read the password from standard input")
    def reset_password(username: str, password_stdin: bool) -> None:
        """Set a new password for a user."""
        user = _user(username)
        user.set_password(_password(password_stdin))
        revocation.revoke_all(user, "password reset")     # cookies of the old password stop working
        db.session.commit()
        access.audit("user.password", "(cli)", target=username)
        click.echo(f"password of '{username}' changed")

    @app.cli.command("disable-user")
    @click.argument("username")
    def disable_user(username: str) -> None:
        """Disable a user: no login, and live sockets and terminals are cut within seconds."""
        user = _user(username)
        user.disabled = True
        revocation.revoke_all(user, "disabled")          # enabling again does not revive old cookies
        db.session.commit()
        access.audit("user.disable", "(cli)", target=username)
        click.echo(f"disabled '{username}'")

    @app.cli.command("enable-user")
    @click.argument("username")
    def enable_user(username: str) -> None:
        """Enable a disabled user again."""
        user = _user(username)
        user.disabled = False
        db.session.commit()
        access.audit("user.enable", "(cli)", target=username)
        click.echo(f"enabled '{username}'")

    @app.cli.command("delete-user")
    @click.argument("username")
    def delete_user(username: str) -> None:
        """Delete a user with their rules and tokens (the audit trail keeps their name)."""
        db.session.delete(_user(username))
        db.session.commit()
        access.audit("user.delete", "(cli)", target=username)
        click.echo(f"deleted '{username}'")

    @app.cli.command("set-role")
    @click.argument("username")
    @click.argument("role", required=False)
    @click.option("--admin/--no-admin", default=None, help="grant or take admin rights")
    def set_role(username: str, role: str | None, admin: bool | None) -> None:
        """Set (or, without ROLE, clear) a user's role; optionally change admin rights."""
        user = _user(username)
        user.role = _role(role)
        if admin is not None:
            user.is_admin = admin
        db.session.commit()
        access.audit("user.role", "(cli)", target=username, role=role, admin=user.is_admin)
        click.echo(f"'{username}': role {user.role or '-'}, admin {'yes' if user.is_admin else 'no'}")

    @app.cli.command("list-users")
    def list_users() -> None:
        """List users with role, admin flag and state."""
        for u in db.session.execute(db.select(User).order_by(User.username)).scalars():
            click.echo(f"{u.username}\trole={u.role or '-'}\t{'admin' if u.is_admin else 'user'}\t"
                       f"{'disabled' if u.disabled else 'active'}")


def rules(app: Flask) -> None:
    @app.cli.command("add-rule")
    @click.option("--user", "username", help="the user the rule is for")
    @click.option("--role", help="or the role it is for")
    @click.option("--clusters", default="*", show_default=True, help="glob of cluster (context) names")
    @click.option("--namespaces", default="*", show_default=True, help="glob of namespace names")
    @click.option("--exec", "can_exec", is_flag=True, help="may open terminals")
    @click.option("--upload", is_flag=True, help="may upload files")
    @click.option("--download", is_flag=True, help="may download files")
    @click.option("--debug", is_flag=True, help="may add debug containers to pods (with --exec: a shell in them)")
    @click.option("--logs", is_flag=True, help="may read container logs")
    def add_rule(username, role, clusters, namespaces, can_exec, upload, download, debug, logs) -> None:
        """Allow a user or role to see matching namespaces, and optionally exec/upload/download there."""
        if bool(username) == bool(role):
            raise click.ClickException("give exactly one of --user and --role")
        rule = Rule(user=_user(username) if username else None, role=_role(role), clusters=clusters,
                    namespaces=namespaces, can_exec=can_exec, can_upload=upload, can_download=download,
                    can_debug=debug, can_logs=logs)
        db.session.add(rule)
        db.session.commit()
        access.audit("rule.add", "(cli)", rule=rule.describe())
        click.echo(f"added rule {rule.describe()}")

    @app.cli.command("list-rules")
    def list_rules() -> None:
        """List every access rule."""
        for r in db.session.execute(db.select(Rule).order_by(Rule.id)).scalars():
            click.echo(r.describe())

    @app.cli.command("delete-rule")
    @click.argument("rule_id", type=int)
    def delete_rule(rule_id: int) -> None:
        """Delete an access rule by its number."""
        rule = db.session.get(Rule, rule_id)
        if rule is None:
            raise click.ClickException(f"no rule #{rule_id}")
        what = rule.describe()
        db.session.delete(rule)
        db.session.commit()
        access.audit("rule.delete", "(cli)", rule=what)
        click.echo(f"deleted rule {what}")


def token_commands(app: Flask) -> None:
    @app.cli.command("create-token")
    @click.argument("username")
    @click.option("--name", default="cli", show_default=True, help="what the token is for")
    @click.option("--days", type=float, help="expire after this many days (default: never)")
    def create_token(username: str, name: str, days: float | None) -> None:
        """Create an API token for a user and print it (once: only its hash is kept)."""
        token, secret = tokens.issue(_user(username), name, days)
        access.audit("token.create", "(cli)", target=username, token=token.id, name=name)
        click.echo(f"token #{token.id} for '{username}' (store it now, it is not shown again):", err=True)
        click.echo(secret)

    @app.cli.command("revoke-token")
    @click.argument("token_id", type=int)
    def revoke_token(token_id: int) -> None:
        """Revoke a token: its live sockets and terminals are cut within seconds."""
        token = db.session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token #{token_id}")
        tokens.revoke(token)
        access.audit("token.revoke", "(cli)", token=token_id, owner=token.user.username)
        click.echo(f"revoked token #{token_id}")

    @app.cli.command("list-tokens")
    @click.argument("username", required=False)
    def list_tokens(username: str | None) -> None:
        """List tokens (of one user, or everyone's): never the secrets."""
        q = db.select(ApiToken).order_by(ApiToken.id)
        if username:
            q = q.filter_by(user_id=_user(username).id)
        for t in db.session.execute(q).scalars():
            d = tokens.describe(t)
            click.echo(f"#{d['id']}\t{d['user']}\t{d['name']}\t{d['state']}\texpires={d['expires_at'] or 'never'}")
