"""The CLI says which database it uses and never silently makes a second one."""
from __future__ import annotations

import subprocess
import sys

import psycopg

from localcluster.console import ROOT

from .helpers import login
from .test_access import PW


def _flask(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "webshell", *args], cwd=ROOT, env=env,
                          input=stdin, text=True, capture_output=True, timeout=120)


def test_a_user_made_with_the_servers_settings_logs_in_and_another_folder_is_refused(make_server, tmp_path,
                                                                                      database_url):
    srv = make_server(database_url=database_url)
    made = _flask(srv.env, "create-user", "carol", "--password-stdin", stdin=PW + "\n")
    assert made.returncode == 0, made.stderr[-2000:]
    where = database_url.split("@")[-1] if database_url else str(srv.instance / "webshell.db")
    assert "database: " in made.stderr and where in made.stderr
    login(srv, "carol", PW)                              # the running console sees her at once

    other = tmp_path / "elsewhere"
    env = {**srv.env, "KWS_INSTANCE_DIR": str(other), "KWS_DATABASE_URL": ""}
    refused = _flask(env, "create-user", "dave", "--password-stdin", stdin=PW + "\n")
    assert refused.returncode != 0
    assert f"no console database at sqlite:///{other}/webshell.db" in refused.stderr
    assert "--create-database" in refused.stderr
    assert not (other / "webshell.db").exists()
    assert "password" not in refused.stderr.lower().replace("--password-stdin", "")   # no admin was made

    env = {**env, "KWS_ADMIN_PASSWORD": ""}
    created = _flask(env, "create-user", "dave", "--password-stdin", "--create-database", stdin=PW + "\n")
    assert created.returncode == 0, created.stderr[-2000:]
    assert f"creating a new database at sqlite:///{other}/webshell.db" in created.stderr
    assert "First start: created user 'admin' with password:" in created.stderr
    listed = _flask(env, "list-users")
    assert listed.returncode == 0 and {line.split("\t")[0] for line in listed.stdout.splitlines()} == {"admin", "dave"}


def test_an_empty_postgresql_database_is_refused_too(postgres, make_server):
    import secrets
    name = f"kws_{secrets.token_hex(6)}"
    with psycopg.connect(postgres.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f'create database "{name}"')
    srv = make_server()      # only for its environment: the command below points elsewhere
    env = {**srv.env, "KWS_DATABASE_URL": f"{postgres}/{name}"}
    refused = _flask(env, "list-users")
    assert refused.returncode != 0 and "no console database at postgresql+psycopg://" in refused.stderr
    assert _flask(env, "list-users", "--create-database").returncode == 0
    assert _flask(env, "list-users").stdout.startswith("admin\t")
