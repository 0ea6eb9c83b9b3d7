"""Fixtures: the real local cluster (or an existing one), the real console server, logins."""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from localcluster import node as realnode
from localcluster.cluster import LocalCluster
from localcluster.console import CHROMIUM, CHROMIUM_ARGS

from .helpers import ConsoleServer, Term, login


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """The local control plane, started for this test session and stopped after it.

    KWS_TEST_CLUSTER_DIR=<dir of a running `python -m localcluster up`> reuses that cluster instead.
    """
    existing = os.environ.get("KWS_TEST_CLUSTER_DIR")
    if existing:
        lc = LocalCluster(Path(existing))
        if not lc.is_running():
            pytest.fail(f"KWS_TEST_CLUSTER_DIR={existing} names no running local cluster")
        yield lc
        return
    state = Path(tempfile.mkdtemp(prefix="kws-test-cluster-"))
    state.chmod(0o755)   # exec runs as `nobody` under root: it must reach the sandbox
    lc = LocalCluster(state)
    lc.up()   # raises ClusterError with the reason: a missing cluster fails the run, never skips it
    try:
        yield lc
    finally:
        lc.down(quiet=True)
        shutil.rmtree(state, ignore_errors=True)


NODE_KINDS = ["kwok", "real"] if realnode.enabled() else ["kwok"]   # KWS_REAL_NODE=0: kwok only


def pytest_report_header(config):
    return f"node kinds: {', '.join(NODE_KINDS)}" + ("" if "real" in NODE_KINDS else " (KWS_REAL_NODE=0)")


@pytest.fixture(params=NODE_KINDS)
def target(request, cluster):
    """The pods a test runs in, on the kwok node and on the real node (tests/targets.py)."""
    from .targets import target_for
    return target_for(request.param, cluster)


@pytest.fixture
def real_target(cluster):
    """The real node's pods, for behaviour only a real runtime has; fails when the node is off."""
    from .targets import target_for
    if not cluster._state().get("real_node"):
        pytest.fail("this test needs the real node, and KWS_REAL_NODE=0 turned it off")
    return target_for("real", cluster)


@pytest.fixture(scope="session")
def server(cluster, tmp_path_factory):
    """One console server for the session, on the admin kubeconfig."""
    srv = ConsoleServer(cluster.admin_kubeconfig, tmp_path_factory.mktemp("instance")).start()
    yield srv
    srv.stop()


@pytest.fixture
def make_server(cluster, tmp_path):
    """A console server with its own settings: make_server(session_grace=2)."""
    started = []

    def make(**env) -> ConsoleServer:
        srv = ConsoleServer(cluster.admin_kubeconfig, tmp_path / f"instance{len(started)}", **env).start()
        started.append(srv)
        return srv
    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def admin(server):
    return login(server)


@pytest.fixture
def term(server, admin):
    t = Term(server, admin)
    yield t
    t.close()


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="eventlet")
        yield


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; a missing browser fails the run with the reason."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (./dev test installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    """A fresh browser context logged in as admin, on the console page."""
    from .helpers import ADMIN_PASSWORD
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20000)
    pg = context.new_page()
    pg.goto(f"{server.url}/login")
    pg.fill("input[name=username]", "admin")
    pg.fill("input[name=password]", ADMIN_PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{server.url}/")
    yield pg
    context.close()


# -- databases: the DB-dependent tests run on SQLite and on a throwaway PostgreSQL --------------
PG_USER = "kws"


@pytest.fixture(scope="session")
def postgres():
    """Debian's PostgreSQL in a temporary folder on 127.0.0.1 (as `postgres`/`nobody` under root); stopped after."""
    import psycopg
    import subprocess

    from .helpers import free_port
    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not initdbs:
        pytest.fail("PostgreSQL is missing: `apt-get install postgresql` (./dev test installs it)")
    bindir = initdbs[-1].parent
    base = Path(tempfile.mkdtemp(prefix="kws-test-pg-"))
    prefix = []
    if os.geteuid() == 0:   # initdb refuses to run as root
        import pwd
        account = next((n for n in ("postgres", "nobody") if _has_user(n)), "nobody")
        pw = pwd.getpwnam(account)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", account, "--"]
    port = free_port()
    data = base / "data"
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w",
                    "-t", "60", "start"], check=True, capture_output=True)
    url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}"
    try:
        with psycopg.connect(f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("select 1")
        yield url
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """'' (SQLite in the instance folder) or a fresh PostgreSQL database: pass as make_server(database_url=...)."""
    if request.param == "sqlite":
        return ""
    import secrets

    import psycopg
    base = request.getfixturevalue("postgres")
    name = f"kws_{secrets.token_hex(6)}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return f"{base}/{name}"


# -- many replicas (issue 14): Redis, HAProxy with cookie affinity, replicas sharing PostgreSQL --
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Debian's redis-server on 127.0.0.1 for this test session (fails with the reason when missing)."""
    from localcluster.redis import RedisServer
    srv = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield srv
    srv.stop()


@pytest.fixture
def make_replicas(cluster, postgres, redis_server, tmp_path):
    """make_replicas(count=2, **env): console replicas on one fresh PostgreSQL database and one Redis
    prefix, behind HAProxy (localcluster/replicas.py); stopped after the test."""
    import secrets

    import psycopg

    from localcluster.replicas import ReplicaSet
    started = []

    def make(count: int = 2, **env) -> ReplicaSet:
        name = f"kws_{secrets.token_hex(6)}"
        with psycopg.connect(postgres.replace("postgresql+psycopg", "postgresql") + "/postgres",
                             autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        env = {"redis_prefix": name, "replica_lease": 3, "auth_recheck": 1, **env}
        rs = ReplicaSet(cluster.admin_kubeconfig, tmp_path / f"replicas{len(started)}", f"{postgres}/{name}",
                        redis_server.url, count, **env)
        started.append(rs)
        return rs.start()
    yield make
    for rs in started:
        rs.stop()
