"""PostgreSQL specifics: replicas starting together on one database migrate it once and share it."""
from __future__ import annotations

import threading

import psycopg

from .helpers import login
from .test_access import PW, add_user


def test_two_replicas_start_together_on_one_postgres_database(make_server, postgres):
    name = "kws_replicas"
    with psycopg.connect(postgres.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f'drop database if exists "{name}"')
        c.execute(f'create database "{name}"')
    url = f"{postgres}/{name}"
    servers, errors = [], []

    def start() -> None:
        try:
            servers.append(make_server(database_url=url, secret_key="shared-by-replicas"))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(servers) == 2, errors
    a, b = servers
    add_user(a, "shared")
    http = login(b, "shared", PW)                       # a user made through one is known to the other
    assert http.get(f"{b.url}/api/clusters").status_code == 200
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as c:
        assert c.execute("select version_num from alembic_version").fetchall() == [("0007_last_login",)]
        assert c.execute("select count(*) from users where username = 'admin'").fetchone() == (1,)
