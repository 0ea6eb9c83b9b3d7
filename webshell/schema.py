"""The database schema, kept by Alembic migrations (Flask-Migrate): upgraded on every start."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate, stamp, upgrade
from sqlalchemy import inspect

from .extensions import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The revision whose schema db.create_all() made before migrations existed.
BEFORE_MIGRATIONS = "0001_users"

migrate = Migrate()


def init_app(app: Flask) -> None:
    migrate.init_app(app, db, directory=str(MIGRATIONS))


def upgrade_to_head() -> None:
    """Bring the database to the newest revision (inside an app context); a fresh database needs no step."""
    tables = set(inspect(db.engine).get_table_names())
    if "users" in tables and "alembic_version" not in tables:
        log.info("database predates migrations: marking it as revision %s", BEFORE_MIGRATIONS)
        stamp(directory=str(MIGRATIONS), revision=BEFORE_MIGRATIONS)
    upgrade(directory=str(MIGRATIONS))
