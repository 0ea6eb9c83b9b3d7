"""Single sign-on in Chromium against a real Dex: its own login form, roles from groups, logout."""
from __future__ import annotations

import pytest

from .sso import sso, sign_in  # noqa: F401 - the fixture

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
