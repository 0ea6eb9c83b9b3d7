"""The database schema, kept by Alembic migrations (Flask-Migrate): upgraded on every start."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate, stamp, upgrade
from sqlalchemy import inspect, text

from .extensions import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The revision whose schema db.create_all() made before migrations existed.
BEFORE_MIGRATIONS = "0001_users"

MIGRATION_LOCK = 0x6B7773   # "kws": the advisory lock key held while migrating
migrate = Migrate()


def init_app(app: Flask) -> None:
    migrate.init_app(app, db, directory=str(MIGRATIONS))


def upgrade_to_head(then: Callable[[], None] = lambda: None) -> None:
    """Bring the database to the newest revision, then run `then` (first-start setup), in an app context.

    A fresh database needs no step. Replicas starting together on one PostgreSQL database
    take turns: one migrates and sets up, the others then find it done.
    """
    if db.engine.dialect.name != "postgresql":
        _upgrade()
        then()
        return
    with db.engine.connect() as lock:
        lock.execute(text("select pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            _upgrade()
            then()
        finally:
            lock.execute(text("select pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()


def _upgrade() -> None:
    tables = set(inspect(db.engine).get_table_names())
    if "users" in tables and "alembic_version" not in tables:
        log.info("database predates migrations: marking it as revision %s", BEFORE_MIGRATIONS)
        stamp(directory=str(MIGRATIONS), revision=BEFORE_MIGRATIONS)
    upgrade(directory=str(MIGRATIONS))
