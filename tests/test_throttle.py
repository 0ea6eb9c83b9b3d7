"""The login throttle against the real login route: it counts a name's failures, never an address's alone."""
from __future__ import annotations

import re

import requests

from localcluster.console import ADMIN_PASSWORD

from .test_access import PW, add_user, admin_events, cli


def _try(srv, user: str, password: str, lang: str = "en") -> requests.Response:
    http = requests.Session()
    http.headers["Accept-Language"] = lang
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{srv.url}/login").text).group(1)
    return http.post(f"{srv.url}/login", data={"username": user, "password": password, "csrf_token": token},
                     allow_redirects=False)


def _wait(r: requests.Response) -> int:
    return int(r.headers["Retry-After"])


def test_a_made_up_name_never_locks_out_admin_but_admins_own_failures_do(make_server):
    srv = make_server(login_max_failures=3, login_lock_seconds=60)
    for _ in range(3):
        assert _try(srv, "mallory", "guess").status_code == 401
    locked = _try(srv, "mallory", "guess")
    assert locked.status_code == 429 and 50 <= _wait(locked) <= 61
    assert re.search(r"Too many failed logins. Try again in (\d+) seconds", locked.text)
    for _ in range(5):   # more of mallory's failures from the same address still leave admin alone
        _try(srv, "mallory", "guess")
    assert _try(srv, "admin", ADMIN_PASSWORD).status_code == 302

    for _ in range(3):
        assert _try(srv, "admin", "wrong").status_code == 401
    mine = _try(srv, "admin", ADMIN_PASSWORD, lang="zh-CN")   # even the right password waits now
    assert mine.status_code == 429 and 50 <= _wait(mine) <= 61
    shown = re.search(r"登录失败次数过多，请在 (\d+) 秒后重试", mine.text)
    assert shown and abs(int(shown.group(1)) - _wait(mine)) <= 1
    token = cli(srv, "create-token", "admin").strip()
    events = admin_events(srv, token)
    throttled = [e for e in events if e["event"] == "login.throttled"]
    assert {e["user"] for e in throttled} == {"mallory", "admin"}
    assert all(e["detail"]["why"] == "failures" and e["detail"]["retry_after"] > 0 for e in throttled)


def test_a_name_is_locked_from_every_address_after_its_own_bound(make_server):
    srv = make_server(login_max_failures=50, login_max_failures_per_user=3, login_lock_seconds=60)
    add_user(srv, "frank")
    for _ in range(3):
        assert _try(srv, "frank", "wrong").status_code == 401
    r = _try(srv, "frank", PW)
    assert r.status_code == 429 and _wait(r) > 0
    assert _try(srv, "admin", ADMIN_PASSWORD).status_code == 302


def test_an_address_is_bounded_only_by_its_total_rate(make_server):
    srv = make_server(login_address_limit="6 per minute")
    codes = [_try(srv, f"user{i}", "x").status_code for i in range(6)]
    assert codes == [401] * 6
    r = _try(srv, "admin", ADMIN_PASSWORD)
    assert r.status_code == 429 and 1 <= _wait(r) <= 61
    assert "Too many logins from your address" in r.text
    zh = _try(srv, "admin", ADMIN_PASSWORD, lang="zh-CN")
    assert zh.status_code == 429 and "来自你的地址的登录过多" in zh.text
