"""Behind Debian's nginx terminating TLS (a CA made here): login, wss terminal, files, origins, addresses."""
from __future__ import annotations

import base64
import os
import re
import secrets

import pytest
import requests
import websocket

from localcluster import demo

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .helpers import ADMIN_PASSWORD, ConsoleServer
from .test_access import admin_events, cli
from .tlsproxy import Nginx, make_tls

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def proxied(make_server, tmp_path, tls):
    """(console with KWS_TRUSTED_PROXIES=1, nginx in front of it)."""
    srv = make_server(trusted_proxies=1)
    proxy = Nginx(tmp_path / "nginx", srv.port, tls).start()
    yield srv, proxy
    proxy.stop()


def _login(base: str, verify, origin: str | None = None, forwarded_for: str | None = None,
           password: str = ADMIN_PASSWORD, user: str = "admin") -> tuple[requests.Session, requests.Response]:
    http = requests.Session()   # verify per call: a session's verify loses to REQUESTS_CA_BUNDLE
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login", verify=verify).text).group(1)
    headers = {"Origin": origin or base, "Referer": f"{base}/login"}   # Flask-WTF checks it over https
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    r = http.post(f"{base}/login", data={"username": user, "password": password, "csrf_token": token},
                  headers=headers, allow_redirects=False, verify=verify)
    http.verify = verify   # for the Socket.IO client, which reads it
    return http, r


def test_without_trusted_proxies_a_tls_proxy_breaks_login(make_server, tmp_path, tls):
    """The issue's symptom, kept as the reason for the setting: nginx says https, the console saw http."""
    srv = make_server()
    proxy = Nginx(tmp_path / "nginx", srv.port, tls).start()
    try:
        _, r = _login(proxy.url, str(tls["ca"]))
        assert r.status_code == 403 and "cross-origin" in r.text
    finally:
        proxy.stop()


def test_login_cookie_origin_and_addresses_follow_the_proxy(proxied, tls):
    srv, proxy = proxied
    http, r = _login(proxy.url, str(tls["ca"]), forwarded_for="203.0.113.9")
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/"
    cookie = next(c for c in http.cookies if c.name == "session")
    assert cookie.secure, "the session cookie must be Secure behind TLS"
    # A foreign origin is still refused, over HTTP and for sockets.
    _, r = _login(proxy.url, str(tls["ca"]), origin="https://evil.example")
    assert r.status_code == 403 and "cross-origin" in r.text
    # The Engine.IO websocket handshake through nginx (wss), with exactly one Origin each time.
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    url = proxy.url.replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"

    def handshake(origin: str) -> str:
        ws = websocket.WebSocket(sslopt={"ca_certs": str(tls["ca"])})
        try:
            ws.connect(url, header=[f"Cookie: {cookie}"], origin=origin, timeout=10)
            return ws.recv()
        finally:
            ws.close()
    assert handshake(proxy.url).startswith('0{"sid"')    # the control: our own origin upgrades
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        handshake("https://evil.example")
    assert refused.value.status_code == 400

    # One trusted hop: the address nginx saw (127.0.0.1), not what the client claimed.
    token = cli(srv, "create-token", "admin").strip()
    logins = [e for e in admin_events(srv, token, user="admin") if e["event"] == "login"]
    assert logins and all(e["ip"] == "127.0.0.1" for e in logins)


def test_two_trusted_hops_take_the_address_from_the_outer_proxy(make_server):
    """Two hops (say, a load balancer, then an ingress): the address the outer one saw counts."""
    srv = make_server(trusted_proxies=2, login_max_failures=2, login_lock_seconds=60)
    for _ in range(2):
        r = _login(srv.url, True, forwarded_for="198.51.100.7, 10.0.0.1", password="wrong", user="mallory")[1]
        assert r.status_code == 401
    # The throttle keys mallory's failures on the outer client's address: from 198.51.100.7 he waits,
    # from another address he may still try; admin, behind the same address, is never locked by him.
    assert _login(srv.url, True, forwarded_for="198.51.100.7, 10.0.0.1", password="wrong",
                  user="mallory")[1].status_code == 429
    assert _login(srv.url, True, forwarded_for="198.51.100.8, 10.0.0.1", password="wrong",
                  user="mallory")[1].status_code == 401
    assert _login(srv.url, True, forwarded_for="198.51.100.7, 10.0.0.1")[1].status_code == 302
    token = cli(srv, "create-token", "admin").strip()
    events = admin_events(srv, token)
    assert [e["ip"] for e in events if e["event"] == "login.failed"] == ["198.51.100.8"] + ["198.51.100.7"] * 2
    assert [e["ip"] for e in events if e["event"] == "login.throttled"] == ["198.51.100.7"]
    assert [e["ip"] for e in events if e["event"] == "login"] == ["198.51.100.7"]


def test_chromium_over_tls_terminal_upload_download(proxied, tls, cluster, tmp_path, chromium):
    srv, proxy = proxied
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"tls-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    # Chromium trusts the test's server key (its SPKI pin); python clients above verify against the CA.
    # A second browser from the session's Playwright (one sync Playwright per thread).
    args = [*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={tls['spki']}"]
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    try:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        ctx.set_default_timeout(30000)
        page = ctx.new_page()
        page.goto(f"{proxy.url}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{proxy.url}/")
        assert any(c["name"] == "session" and c["secure"] for c in ctx.cookies())

        page.goto(f"{proxy.url}/t/kws-local/demo/web-2?container=web")
        page.wait_for_function("() => { const t = window.kws && window.kws.activeTarget();"
                               " return !!t && t.pod === 'web-2'; }")
        page.wait_for_function("() => document.querySelectorAll('.status.connected').length === 1")
        page.locator(".pane.active .xterm").click()
        page.keyboard.type("echo over-$((20+22))-wss")
        page.keyboard.press("Enter")
        page.wait_for_function("""() => { const t = [...window.kws.tabs.values()][0], b = t.term.buffer.active;
            for (let i = 0; i < b.length; i++) if (b.getLine(i).translateToString(true).includes('over-42-wss'))
              return true; return false; }""")
        proto = page.evaluate("() => location.protocol")
        assert proto == "https:"
        ws_seen = [line for line in (proxy.dir / "access.log").read_text().splitlines()
                   if "transport=websocket" in line and '" 101 ' in line]
        assert ws_seen, "the terminal's socket did not upgrade to a websocket (wss) through nginx"

        # Upload and download with the page's own fetch (its cookie and CSRF token), over https.
        data = os.urandom(2 * 1024 * 1024 + 3)
        files = "/api/clusters/kws-local/namespaces/demo/pods/web-2/files"
        result = page.evaluate("""async ([files, path, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const csrf = document.querySelector('meta[name=csrf-token]').content;
            const q = new URLSearchParams({container: 'web', path});
            const up = await fetch(`${files}/upload?${q}`, {method: 'PUT', body: bytes,
                                   headers: {'X-CSRFToken': csrf}});
            const down = await fetch(`${files}/download?${q}`);
            const got = new Uint8Array(await down.arrayBuffer());
            let same = got.length === bytes.length;
            for (let i = 0; same && i < got.length; i++) same = got[i] === bytes[i];
            return {up: up.status, upBody: await up.json(), down: down.status, same};
        }""", [files, f"{box}/tls.bin", base64.b64encode(data).decode()])
        assert result["up"] == 200 and result["upBody"]["size"] == len(data), result
        assert result["down"] == 200 and result["same"], result
        assert (box / "tls.bin").read_bytes() == data
    finally:
        browser.close()
