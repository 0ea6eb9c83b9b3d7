"""Login: no user enumeration by timing, no forged log lines from what a client sends."""
from __future__ import annotations

import logging
import re
import socket
import time

import pytest
import requests

from webshell import logsafe, models

from .test_access_rules import app  # noqa: F401 - the in-process app on a throwaway database


def _login(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_an_unknown_name_costs_one_password_hash_like_a_known_one(app, monkeypatch):
    checked: list[str] = []
    real = models.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)
    monkeypatch.setattr(models, "check_password_hash", counting)
    client = app.test_client()
    assert _login(client, "admin", "wrong password").status_code == 401
    assert _login(client, "no-such-user", "wrong password").status_code == 401
    assert _login(client, "no-such-user-2", "wrong password").status_code == 401
    assert checked == ["scrypt:32768:8:1"] * 3      # the same work for every wrong login


@pytest.mark.parametrize("value, shown", [
    ("admin", "admin"), ("a.b-c_d@e:f/g+h,i", "a.b-c_d@e:f/g+h,i"), (42, 42), (None, None),
    ("x\nlogin: user=admin", "'x\\nlogin: user=admin'"), ("cr\rlf", "'cr\\rlf'"),
    ("esc\x1b[2J", "'esc\\x1b[2J'"), ("ls\u2028x", "'ls\\u2028x'"), ("a b", "'a b'"), ("k=v", "'k=v'"),
    ("", "''"), (b"by\ntes", "'by\\ntes'"),
])
def test_logged_values_are_quoted_when_they_could_fake_a_field_or_line(value, shown):
    assert logsafe.quote(value) == shown


def test_every_logger_gets_quoted_arguments(caplog):
    logsafe.install()
    with caplog.at_level(logging.INFO, logger="some.library"):
        logging.getLogger("some.library").info("user=%s count=%d", "x\ny", 3)
    assert caplog.records[-1].getMessage() == "user='x\\ny' count=3"


def test_a_line_a_library_formatted_itself_stays_one_line(caplog):
    """eventlet's access line and Flask's "Exception on <path>" splice client text into the message."""
    logsafe.install()
    with caplog.at_level(logging.INFO, logger="some.library"):
        logging.getLogger("some.library").info("GET /x\nFORGED login: user=admin \x1b[2J\u2028 \u00e9")
        logging.getLogger("some.library").error(ValueError("bad\r\nFORGED"))
    assert [r.getMessage() for r in caplog.records[-2:]] == \
        ["GET /x\\nFORGED login: user=admin \\x1b[2J\\u2028 \u00e9", "bad\\r\\nFORGED"]


def test_a_traceback_cannot_start_a_line_of_its_own():
    from webshell.ops.logs import TEXT_FORMAT, TextFormatter
    try:
        raise ValueError("bad\n2026-12-01 10:00:00,000 INFO webshell.auth.views: login: user=admin\x1b[2J")
    except ValueError:
        record = logging.getLogger("t").makeRecord("t", logging.ERROR, __file__, 1, "boom", None, __import__("sys").exc_info())
    first, *rest = TextFormatter(TEXT_FORMAT).format(record).splitlines()
    assert first.endswith("ERROR t: boom") and rest and all(line.startswith("  ") for line in rest)
    assert "\x1b" not in "".join(rest) and "\\x1b[2J" in rest[-1]


def test_the_access_line_cannot_be_forged_by_a_folded_header_or_a_control_character(make_server):
    """eventlet writes the raw request line and X-Forwarded-For into its access line itself."""
    server = make_server()
    host, port = server.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /healthz?\x1b[2J HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n"
                  b" FORGED INFO webshell.auth.views: login: user=admin\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 ")
    deadline = time.monotonic() + 10
    while not (lines := [line for line in server.log().splitlines() if "healthz?" in line]) and time.monotonic() < deadline:
        time.sleep(0.1)        # the access line is written after the reply
    assert not [line for line in server.log().splitlines() if line.startswith(" FORGED") or line.startswith("FORGED")]
    assert "\x1b" not in server.log() and "\\x1b[2J" in lines[0], lines


def test_a_newline_in_the_login_name_cannot_forge_a_log_line(make_server):
    server = make_server()     # its own: failed logins count against the address
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{server.url}/login").text).group(1)
    for name in ("mallory\nFORGED INFO webshell.auth.views: login: user=admin ip=6.6.6.6",
                 "mallory\rFORGED2 login: user=admin", "mallory\u2028FORGED3 login: user=admin"):
        r = http.post(f"{server.url}/login", data={"username": name, "password": "x", "csrf_token": token})
        assert r.status_code == 401
    lines = server.log().splitlines()
    assert not [line for line in lines if line.startswith("FORGED")]
    failed = [line for line in lines if "login failed" in line and "mallory" in line]
    assert len(failed) == 3 and all("'mallory\\" in line for line in failed), failed


def test_the_login_throttle_holds_a_bounded_amount_for_anonymous_clients():
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    from webshell.auth import throttle
    storage = MemoryStorage()
    t = throttle.LoginThrottle(MovingWindowRateLimiter(storage), 3, 10, lock_seconds=1)
    for i in range(40):
        assert t.retry_after(f"{'x' * 10000}{i}", "1.2.3.4") == 0   # names only asked about are not kept
    assert not storage.events
    for i in range(20):
        t.failed(f"{'y' * 10000}", "1.2.3.4")
    assert all(len(k) <= throttle.MAX_KEY + 40 for k in storage.events)
    assert max(len(v) for v in storage.events.values()) <= 10      # only what can still count is kept
