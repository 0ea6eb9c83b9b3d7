"""zh-CN in real Chromium: every page walked in Chinese shows no English outside the data it displays."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import requests

from localcluster import demo

from .helpers import ADMIN_PASSWORD, login
from .test_e2e_terminal import open_pod

pytestmark = pytest.mark.browser

# What may stay in Latin letters: the data on screen, key names, product and protocol names.
DATA = {w for ns, pod, cs, _ in demo.PODS for w in (ns, pod, *cs)} | {"kws-local", "admin", "bash", "sh", "default", "kube-node-lease", "kube-public", "kube-system"}
TERMS = {"kube-webshell", "Pod", "Shell", "API", "Socket.IO", "URL", "CJK", "Ctrl", "Shift", "Esc", "Enter", "UTC",
         "HTTP", "KWS_RECORD", "JetBrains", "Mono", "Noto", "Sans", "Source", "Han", "Sarasa", "WenQuanYi", "English",
         "Authorization", "Bearer", "token", "ci", "auth", "terminal", "distroless", "KiB", "MiB", "GiB", "Running", "Pending",
         "Succeeded", "Failed", "RBAC"}
TEXTS = """() => {
  const out = [];
  const visible = (n) => n.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true })
    && !n.closest('details:not([open]) > :not(summary)');
  const skip = (n) => n.closest('.xterm, .logs-lines, .files-list li[data-name], .files-path, script, style, code, kbd, #kws-i18n, .data, #new-token, option:not(:checked)');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const p = t.parentElement;
    if (p && visible(p) && !skip(p) && t.textContent.trim()) out.push(t.textContent.trim());
  }
  for (const n of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    if (skip(n) || (!visible(n) && n.tagName !== 'SELECT')) continue;
    for (const a of ['title', 'placeholder', 'aria-label']) if (n.getAttribute(a)) out.push(n.getAttribute(a));
  }
  out.push(document.title);
  return out;
}"""


def live_data(server) -> set[str]:
    """Every name the cluster and the console show right now (other tests add namespaces, pods and
    debug containers to the shared cluster): data, not interface text."""
    http = login(server)
    names: set[str] = set()
    base = f"{server.url}/api/clusters/kws-local"
    for ns in http.get(f"{base}/namespaces").json()["namespaces"]:
        names.add(ns)
        for pod in http.get(f"{base}/namespaces/{ns}/pods").json()["pods"]:
            names.add(pod["name"])
            names.update(c["name"] for c in pod["containers"])
    for s in http.get(f"{server.url}/api/admin/sessions").json()["sessions"]:
        names.update((s["namespace"], s["pod"], s["container"], s["shell"]))
    return names


def english(texts: list[str], data: set[str] = frozenset()) -> list[str]:
    bad = []
    for text in texts:
        rest = text
        for word in sorted(DATA | TERMS | data, key=len, reverse=True):
            rest = re.sub(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", " ", rest)
        if re.search(r"[A-Za-z]{2,}", rest):
            bad.append(text)
    return bad


def check(page, where: str) -> None:
    page.wait_for_load_state("networkidle")
    origin = "/".join(page.url.split("/", 3)[:3])     # the console this page shows
    bad = english(page.evaluate(TEXTS), live_data(SimpleNamespace(url=origin)))
    assert not bad, f"English on the zh-CN {where}: {bad}"


def test_every_page_in_zh_cn_is_chinese(chromium, server):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20000)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login")
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        check(page, "login page")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
        page.wait_for_selector(".flash")
        check(page, "failed login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.wait_for_selector("#tree li.cluster")
        check(page, "empty console")
        open_pod(page, "demo", "multi")
        page.click("#files-toggle")
        page.wait_for_selector(".files-list li")
        page.click("#logs-toggle")
        page.wait_for_selector(".logs-pane .line")
        page.locator('#tree li.pod[data-pod="multi"] > .row').hover()
        check(page, "console with a terminal, files and logs")
        page.click(".files-mkdir")
        page.wait_for_selector(".files-new input")
        check(page, "new folder in the files pane")
        page.press(".files-new input", "Escape")
        other = context.new_page()          # the same session attached from another tab: the first one says so
        other.goto(server.url)
        session = page.evaluate("() => window.kws.active.session")
        other.locator(f'#your-sessions li[data-session="{session}"] button.attach').click()
        page.wait_for_selector(".pane.active .pane-notice")
        check(page, "terminal opened in another tab")
        other.close()
        page.goto(f"{server.url}/t/kws-local/demo/distroless")
        page.wait_for_selector(".pane.active .pane-error")
        check(page, "terminal error")
        page.click("#settings-btn")
        check(page, "settings")
        page.keyboard.press("Escape")
        page.click("#help-btn")
        check(page, "shortcuts help")
        page.keyboard.press("Escape")
        page.goto(f"{server.url}/tokens")
        page.fill("input[name=name]", "ci")
        page.click(".filters button[type=submit]")
        page.wait_for_selector("#new-token")
        check(page, "new token")
        page.goto(f"{server.url}/admin/sessions")
        assert page.locator("#sessions tr[data-session]").count() >= 1     # the terminal above is still live
        for path in ("/tokens", "/admin/sessions", "/admin/audit", "/admin/recordings", "/admin/users",
                     "/admin/rules?user=admin&cluster=kws-local", "/admin/tokens", "/shared", "/no/such/page"):
            page.goto(server.url + path)
            check(page, path)
        # The language can be switched on the page, and the choice sticks.
        page.goto(f"{server.url}/tokens")
        page.select_option(".lang-form select", "en")
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.locator("h1").inner_text() == "API tokens"
        page.select_option(".lang-form select", "zh_CN")
        page.wait_for_function("document.documentElement.lang === 'zh-CN'")
        assert page.locator("h1").inner_text() == "API 令牌"
    finally:
        context.close()


def test_server_messages_follow_the_language(make_server):
    from .test_access import PW, add_user
    srv = make_server()
    add_user(srv, "zhu", ["--namespaces", "demo"])
    http = login(srv, "zhu", PW)
    r = http.get(f"{srv.url}/api/clusters/kws-local/namespaces/team-a/pods", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 403 and r.json()["error"]["message"] == "你无权在集群“kws-local”的命名空间“team-a”中查看"
    r = http.get(f"{srv.url}/api/clusters/kws-local/namespaces/team-a/pods")
    assert r.json()["error"]["message"] == "you may not see in namespace 'team-a' of cluster 'kws-local'"
    assert requests.get(f"{srv.url}/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text.count('lang="en"') == 1
