"""Single sign-on in Chromium against a real Dex: its own login form, roles from groups, logout."""
from __future__ import annotations

import pytest

from localcluster.oidc import OIDC_PREFIX, OidcApiServer

from .sso import bindings, sign_in, sso, start_sso  # noqa: F401 - the fixtures

SCREEN = "() => { const t = document.querySelector('.pane.active .xterm-rows'); return t ? t.innerText : ''; }"


@pytest.fixture
def browser_context(chromium):
    # Chromium does not know the test's CA (the console itself verifies Dex with it).
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    ctx.set_default_timeout(20000)
    yield ctx
    ctx.close()


def test_alice_signs_in_at_the_provider_and_may_exec_in_team_a_only(browser_context, sso):
    page = browser_context.new_page()
    sign_in(page, sso, "alice")
    assert page.locator("header .user").inner_text() == "alice"
    page.locator('#tree li.namespace[data-namespace="team-a"]').wait_for()
    assert page.locator('#tree li.namespace[data-namespace="team-b"]').count() == 0
    page.goto(f"{sso.server.url}/t/kws-local/team-a/shell-a")
    page.wait_for_selector(".pane.active .status.connected")
    page.locator(".pane.active .xterm").click()
    page.keyboard.type("echo sso-$((6*7))\n")
    page.wait_for_function(f"() => ({SCREEN})().includes('sso-42')")
    other = browser_context.new_page()
    other.goto(f"{sso.server.url}/t/kws-local/team-b/shell-b")
    other.wait_for_selector(".pane.active .status.exited")
    assert "team-b" in other.locator(".pane.active .status").inner_text()
    other.close()

    # Logging out (from another tab) ends her shell and socket at once.
    out = browser_context.new_page()
    out.goto(f"{sso.server.url}/")
    out.click("header form button[type=submit]")
    out.wait_for_url(f"{sso.server.url}/login")
    page.wait_for_function("() => !document.querySelector('.pane.active .status.connected')")
    log = sso.server.log()
    assert "audit logout user='alice'" in log or "audit logout user=alice" in log, log[-2000:]


def test_bob_without_groups_is_told_he_has_no_access_yet(browser_context, sso):
    page = browser_context.new_page()
    sign_in(page, sso, "bob")
    page.wait_for_selector("body.no-access")
    assert "no access yet" in page.locator("#tree").inner_text()


def test_on_a_token_cluster_the_page_offers_what_the_clusters_rbac_allows(browser_context, cluster, tmp_path,
                                                                           bindings):
    """No console rule: the tree and the terminal follow alice's own ID token at the API server."""
    bindings("team-a", "oidc-team-a-shell-e2e", f"{OIDC_PREFIX}team-a")
    s = start_sso(cluster.admin_kubeconfig, tmp_path, cluster_auth="kws-oidc=token", start=False)
    api = OidcApiServer(cluster, s.dex)
    try:
        api.start()
        s.server.env["KUBECONFIG"] = str(api.kubeconfig)
        s.server.start()
        page = browser_context.new_page()
        sign_in(page, s, "alice")
        page.locator('#tree li.namespace[data-namespace="team-a"]').wait_for()
        assert page.locator("#tree li.namespace").count() == 1     # team-b, demo...: not hers
        page.goto(f"{s.server.url}/t/kws-oidc/team-a/shell-a")
        page.wait_for_selector(".pane.active .status.connected")
        page.locator(".pane.active .xterm").click()
        page.keyboard.type("echo tok-$((6*7))\n")
        page.wait_for_function(f"() => ({SCREEN})().includes('tok-42')")
    finally:
        s.server.stop()
        api.stop()
        s.dex.stop()
