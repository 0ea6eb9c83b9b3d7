"""Single sign-on logins against a real Dex, without a browser: accounts, roles, refusals, the switch-off."""
from __future__ import annotations

import re
import sqlite3

import requests

from .helpers import ADMIN_PASSWORD, login
from .sso import LABEL, PROVIDER, sign_in_http, start_sso


def _db(sso) -> sqlite3.Connection:
    return sqlite3.connect(sso.server.instance / "webshell.db")


def _user(sso, name: str):
    with _db(sso) as c:
        return c.execute("select id, role, is_admin from users where username = ?", (name,)).fetchone()


def test_users_are_made_at_first_login_and_their_role_follows_the_groups_each_time(cluster, tmp_path):
    sso = start_sso(cluster.admin_kubeconfig, tmp_path, oidc_admin_groups="team-a")
    try:
        sso.server.create_user("alice", "local-alice-password")    # a local account named alice already
        sign_in_http(sso, "alice")
        uid, role, admin = _user(sso, f"alice@{PROVIDER}")            # never the local account
        assert (role, admin) == ("team-a", 1)
        assert _user(sso, "alice")[1] is None
        with _db(sso) as c:
            c.execute("update users set role = 'other', is_admin = 0 where id = ?", (uid,))
        sign_in_http(sso, "alice")                                     # the same account, re-evaluated
        assert _user(sso, f"alice@{PROVIDER}") == (uid, "team-a", 1)
        sign_in_http(sso, "bob")
        assert _user(sso, "bob")[1:] == (None, 0)
        with _db(sso) as c:
            groups = dict(c.execute("select u.username, i.groups from oidc_identities i join users u "
                                    "on u.id = i.user_id").fetchall())
        assert groups == {f"alice@{PROVIDER}": '["team-a"]', "bob": "[]"}
        assert "audit login user='bob'" in sso.server.log() or "audit login user=bob" in sso.server.log()
    finally:
        sso.server.stop()
        sso.dex.stop()


def test_a_forged_state_is_refused_and_makes_no_user(cluster, tmp_path):
    sso = start_sso(cluster.admin_kubeconfig, tmp_path)
    try:
        http = requests.Session()
        http.trust_env = False
        http.verify = str(sso.dex.ca_file)
        form = http.get(f"{sso.server.url}/login/sso/{PROVIDER}")    # a real state in this session...
        state = re.search(r"state=([^&]+)", form.url)
        assert state, form.url
        r = http.get(f"{sso.server.url}/login/sso/{PROVIDER}/callback", params={"code": "x", "state": "forged"})
        assert r.status_code == 401 and f"Sign-in with {LABEL} failed" in r.text
        other = requests.get(f"{sso.server.url}/login/sso/{PROVIDER}/callback",   # ...is no one else's
                             params={"code": "x", "state": state.group(1)})
        assert other.status_code == 401
        with _db(sso) as c:
            assert c.execute("select count(*) from oidc_identities").fetchone() == (0,)
        assert requests.get(f"{sso.server.url}/login/sso/nope").status_code == 404
    finally:
        sso.server.stop()
        sso.dex.stop()


def test_local_accounts_can_be_switched_off(cluster, tmp_path):
    sso = start_sso(cluster.admin_kubeconfig, tmp_path, local_login="0")
    try:
        page = requests.get(f"{sso.server.url}/login").text
        assert f"Sign in with {LABEL}" in page and 'name="password"' not in page
        zh = requests.get(f"{sso.server.url}/login", headers={"Accept-Language": "zh-CN"}).text
        assert f"使用 {LABEL} 登录" in zh
        http = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{sso.server.url}/login").text).group(1)
        r = http.post(f"{sso.server.url}/login", data={"username": "admin", "password": ADMIN_PASSWORD,
                                                       "csrf_token": token}, allow_redirects=False)
        assert r.status_code == 403 and "Local accounts are switched off" in r.text
        sign_in_http(sso, "alice")                                      # SSO still works
    finally:
        sso.server.stop()
        sso.dex.stop()


def test_logout_offers_no_end_session_link_when_the_provider_has_none(cluster, tmp_path):
    """Dex publishes no end_session_endpoint: logout ends the console's session only, and says nothing more."""
    sso = start_sso(cluster.admin_kubeconfig, tmp_path)
    try:
        http = sign_in_http(sso, "alice")
        token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(f"{sso.server.url}/").text).group(1)
        r = http.post(f"{sso.server.url}/logout", headers={"X-CSRFToken": token, "Origin": sso.server.url})
        assert r.url == f"{sso.server.url}/login" and "Also sign out" not in r.text
        assert http.get(f"{sso.server.url}/api/clusters").status_code == 401
        with _db(sso) as c:    # the provider's tokens are forgotten with the session
            assert c.execute("select id_token, refresh_token from oidc_identities").fetchall() == [(None, None)]
        assert login(sso.server).get(f"{sso.server.url}/api/clusters").status_code == 200
    finally:
        sso.server.stop()
        sso.dex.stop()


def test_a_replayed_callback_is_refused(cluster, tmp_path):
    """The provider's redirect back works once: its state is spent, a second use logs no one in."""
    sso = start_sso(cluster.admin_kubeconfig, tmp_path)
    try:
        http = requests.Session()
        http.trust_env = False
        http.verify = str(sso.dex.ca_file)
        form = http.get(f"{sso.server.url}/login/sso/{PROVIDER}")
        r = http.post(form.url, data={"login": "alice@example.test", "password": sso.dex.passwords["alice"]},
                      allow_redirects=False)
        while not r.headers["Location"].startswith(sso.server.url):      # through Dex's own redirects
            r = http.get(requests.compat.urljoin(r.url, r.headers["Location"]), allow_redirects=False)
        callback = r.headers["Location"]
        assert "/callback?" in callback and "code=" in callback
        first = http.get(callback, allow_redirects=False)
        assert first.status_code == 302 and first.headers["Location"] == "/"
        again = requests.Session()
        again.cookies.update(http.cookies)
        http.cookies.clear()
        assert http.get(callback, allow_redirects=False).status_code == 401        # no session: no state
        spent = again.get(callback, allow_redirects=False)                         # a spent state
        assert spent.status_code == 401 and "Sign-in with" in spent.text
    finally:
        sso.server.stop()
        sso.dex.stop()
