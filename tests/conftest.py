"""Fixtures: the real local cluster (or an existing one), the real console server, logins."""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from localcluster.cluster import LocalCluster

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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


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
