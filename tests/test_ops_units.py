"""Unit tests of the ops layer, no cluster: audit events → metrics, JSON logs, the Flask-Login touch."""
from __future__ import annotations

import json
import logging

import pytest
from flask_login import login_user

from webshell import metrics
from webshell.extensions import db
from webshell.models import User
from webshell.ops import logs


def sample(name: str, **labels) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or None) or 0.0


@pytest.mark.parametrize("event, fields, name, labels", [
    ("login", {}, "kws_logins_total", {"result": "ok"}),
    ("login.failed", {"why": "bad credentials"}, "kws_logins_total", {"result": "failed"}),
    ("login.throttled", {}, "kws_logins_total", {"result": "throttled"}),
    ("terminal.open", {"shell": "bash"}, "kws_terminal_opens_total", {"result": "ok"}),
    ("terminal.open.failed", {"code": "no_shell"}, "kws_terminal_opens_total", {"result": "no_shell"}),
    ("terminal.open.denied", {"code": "forbidden"}, "kws_terminal_opens_total", {"result": "forbidden"}),
    ("file.upload", {"size": 10}, "kws_transfers_total", {"direction": "upload", "result": "ok"}),
    ("file.upload.failed", {"size": 10, "error": "transfer_failed"}, "kws_transfers_total",
     {"direction": "upload", "result": "transfer_failed"}),
    ("file.download.denied", {}, "kws_transfers_total", {"direction": "download", "result": "forbidden"}),
    ("file.download", {"size": 7, "complete": False}, "kws_transfers_total",
     {"direction": "download", "result": "incomplete"}),
])
def test_audit_events_count_once(event, fields, name, labels):
    before = sample(name, **labels)
    metrics.from_audit(event, dict(fields))
    assert sample(name, **labels) == before + 1


def test_transfer_bytes_and_durations():
    up = sample("kws_transfer_bytes_total", direction="upload", result="ok")
    failed = sample("kws_transfer_bytes_total", direction="upload", result="transfer_failed")
    seconds = sample("kws_transfer_seconds_count", direction="download")
    metrics.from_audit("file.upload", {"size": 1000}, started=None)
    metrics.from_audit("file.upload.failed", {"size": 5000, "error": "transfer_failed"})   # announced, not moved
    metrics.from_audit("file.download", {"size": 10, "complete": True, "duration": 0.5})
    metrics.from_audit("file.download", {"archive": "tar"})                                # no duration at its start
    assert sample("kws_transfer_bytes_total", direction="upload", result="ok") == up + 1000
    assert sample("kws_transfer_bytes_total", direction="upload", result="transfer_failed") == failed
    assert sample("kws_transfer_seconds_count", direction="download") == seconds + 1


def test_unrelated_events_count_nothing():
    before = {(m.name, tuple(s.labels.items())): s.value for m in metrics.REGISTRY.collect() for s in m.samples
              if not m.name.startswith("kws_terminals_open")}
    for event in ("logout", "token.create", "session.watch", "access.denied", "user.create"):
        metrics.from_audit(event, {})
    after = {(m.name, tuple(s.labels.items())): s.value for m in metrics.REGISTRY.collect() for s in m.samples
             if not m.name.startswith("kws_terminals_open")}
    assert after == before


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("KWS_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("KWS_ADMIN_PASSWORD", "admin-unit-password")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("KWS_ASYNC_MODE", "threading")
    monkeypatch.setenv("KWS_RECORD", "0")
    from webshell import create_app
    return create_app()


def test_request_user_reads_flask_logins_cache_and_loads_nothing(app):
    """The one touch of Flask-Login's internals (g._login_user): fails here if an upgrade moves it."""
    with app.test_request_context("/"):
        assert logs.request_user() is None
        user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        login_user(user)
        assert logs.request_user() == "admin"
    assert logs.request_user() is None   # no app context: no user


def test_json_formatter_writes_one_object_with_the_name(app):
    record = logging.LogRecord("webshell.x", logging.INFO, __file__, 1, "opened %s", ("s1",), None)
    with app.test_request_context("/"):
        login_user(db.session.execute(db.select(User).filter_by(username="admin")).scalar_one())
        line = logs.JsonFormatter().format(record)
    out = json.loads(line)
    assert out["message"] == "opened s1" and out["user"] == "admin" and out["level"] == "INFO"
    assert "\n" not in line


def test_bad_log_format_is_refused():
    with pytest.raises(ValueError, match="KWS_LOG_FORMAT"):
        logs.configure("INFO", "xml")


def test_health_needs_no_login_and_metrics_stay_gated(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "alive"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["checks"] == {"database": "ok", "terminals": "ok"}
    assert client.get("/metrics").status_code == 404
    # Health is answered before the token guard: a stray Authorization header changes nothing.
    assert client.get("/healthz", headers={"Authorization": "Bearer nope"}).status_code == 200
    app.extensions["kws.terminal"].registry.shutdown(timeout=0)
    r = client.get("/readyz")
    assert r.status_code == 503 and r.get_json()["checks"]["terminals"] == "shutting down"


def test_a_lost_audit_event_counts_as_an_audit_write_failure(app, monkeypatch):
    """Every try to store the event fails: the event is lost, and /metrics says so once."""
    from webshell import access
    from webshell.models import AuditEvent
    app.config.update(AUDIT_RETRIES=2, AUDIT_RETRY_DELAY=0)
    tries = []

    def refuse():
        tries.append(1)
        raise RuntimeError("database gone")
    before, lost = sample("kws_audit_write_failures_total"), access.LOST["events"]
    with app.app_context():
        with monkeypatch.context() as m:
            m.setattr(db.session, "commit", refuse)
            access.audit("logout", None)
        assert db.session.execute(db.select(AuditEvent).filter_by(event="logout")).first() is None
    assert len(tries) == 2
    assert sample("kws_audit_write_failures_total") == before + 1 and access.LOST["events"] == lost + 1
    with app.app_context():   # the control: once the database takes it again, nothing more is counted
        access.audit("logout", None)
        assert db.session.execute(db.select(AuditEvent).filter_by(event="logout")).first() is not None
    assert sample("kws_audit_write_failures_total") == before + 1
