"""Small fixtures over one factory: `app` from a test config, then `client`, `runner`, `auth`, `sio`."""
from __future__ import annotations

import re

import pytest

from webshell import create_app
from webshell.config import Config
from webshell.extensions import db
from webshell.models import User

from .fakes import FakeStarter

PASSWORD = "unit-test-password"


class TestConfig(Config):
    """No cluster, no recordings, threads instead of green threads, a throwaway SQLite database."""

    def __init__(self, instance):
        super().__init__()
        self.TESTING = True
        self.INSTANCE_DIR = instance
        self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{instance / 'unit.db'}"
        self.SECRET_KEY = "unit-test-secret"
        self.KUBECONFIG = str(instance / "no-kubeconfig")
        self.ASYNC_MODE = "threading"
        self.RECORD = False
        self.ADMIN_USER, self.ADMIN_PASSWORD = "admin", PASSWORD
        self.AUTH_RECHECK = 0.05
        self.AUDIT_RETRY_DELAY = 0.01


@pytest.fixture
def app(tmp_path):
    app = create_app(TestConfig(tmp_path))
    starter = FakeStarter()
    app.extensions["kws.terminal"].registry.starter = starter
    app.extensions["kws.test_starter"] = starter
    with app.app_context():
        alice = User(username="alice")
        alice.set_password(PASSWORD)
        db.session.add(alice)
        db.session.commit()
    yield app
    app.extensions["kws.terminal"].shutdown()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username="admin", password=PASSWORD):
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def csrf(self) -> str:
        page = self.client.get("/").get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def sio(app, client, auth):
    """A Socket.IO test client of /terminal, logged in as admin through the HTTP client's cookie."""
    from webshell.extensions import socketio
    auth.login()
    clients = []

    def make(**kw):
        c = socketio.test_client(app, namespace="/terminal", flask_test_client=client, **kw)
        clients.append(c)
        return c
    yield make
    for c in clients:
        if c.is_connected("/terminal"):
            c.disconnect("/terminal")
