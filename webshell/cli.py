"""Flask CLI commands for user administration."""
from __future__ import annotations

import sys

import click
from flask import Flask

from .extensions import db
from .models import User


def init_app(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--admin", is_flag=True, help="grant admin rights")
    @click.option("--password-stdin", is_flag=True, help="read the password from standard input")
    def create_user(username: str, admin: bool, password_stdin: bool) -> None:
        """Create a user (prompts for the password)."""
        if db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none():
            raise click.ClickException(f"user '{username}' exists")
        password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
            "Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise click.ClickException("the password needs at least 8 characters")
        user = User(username=username, is_admin=admin)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"created user '{username}'")
