"""In real Chromium: an admin creates a user, gives her a rule, previews what she may do, disables her
while her console is open (her tab is cut), and revokes her token, all from the admin pages."""
from __future__ import annotations

import secrets

import pytest

from .helpers import csrf_token, login
from .test_access import PW

pytestmark = pytest.mark.browser


def test_an_admin_manages_a_user_her_rules_and_her_tokens_in_the_browser(page, server, chromium):
    name = f"nina{secrets.token_hex(3)}"
    admin = page
    admin.goto(f"{server.url}/admin/users")
    admin.fill("#create-user input[name=username]", name)
    admin.fill("#create-user input[name=password]", PW)
    admin.click("#create-user button[type=submit]")
    admin.wait_for_selector(f'.flash:has-text("Created user {name}.")')
    row = admin.locator(f'#users tr[data-user="{name}"]')
    assert row.locator(".state").inner_text() == "active" and row.locator(".last-login").inner_text() == "never"

    admin.goto(f"{server.url}/admin/rules")
    admin.select_option("#add-rule select[name=user]", name)
    admin.fill("#add-rule input[name=namespaces]", "team-a")
    admin.check("#add-rule input[name=exec]")
    admin.click("#add-rule button[type=submit]")
    admin.wait_for_selector('.flash:has-text("Added rule")')
    admin.select_option("#preview-form select[name=user]", name)
    admin.click("#preview-form button[type=submit]")
    admin.wait_for_selector("#preview")
    assert admin.locator('#preview tr[data-namespace="team-a"] td[data-action="exec"]').get_attribute(
        "data-allowed") == "yes"
    assert admin.locator('#preview tr[data-namespace="team-b"] td[data-action="list"]').get_attribute(
        "data-allowed") == "no"

    # She logs in in her own browser and opens the console; her tree shows only team-a.
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(20000)
    try:
        her = ctx.new_page()
        her.goto(f"{server.url}/login")
        her.fill("input[name=username]", name)
        her.fill("input[name=password]", PW)
        her.click("button[type=submit]")
        her.wait_for_url(f"{server.url}/")
        her.wait_for_selector('#tree li.namespace[data-namespace="team-a"]')
        assert her.locator('#tree li.namespace').count() == 1

        http = login(server, name, PW)      # and a token of hers, for the tokens page
        made = http.post(f"{server.url}/api/tokens", json={"name": "her-dash"},
                         headers={"X-CSRFToken": csrf_token(http, server)}).json()
        admin.goto(f"{server.url}/admin/tokens")
        token_row = admin.locator(f'#all-tokens tr[data-token="{made["id"]}"]')
        assert name in token_row.inner_text()
        admin.once("dialog", lambda d: d.accept())
        token_row.locator("button", has_text="Revoke").click()
        admin.wait_for_selector(f'.flash:has-text("Revoked token #{made["id"]}")')
        assert admin.locator(f'#all-tokens tr[data-token="{made["id"]}"] .state').inner_text() == "revoked"

        admin.goto(f"{server.url}/admin/users")
        asked = []
        admin.once("dialog", lambda d: (asked.append(d.message), d.accept()))
        admin.locator(f'#users tr[data-user="{name}"] button.disable').click()
        admin.wait_for_selector(f'.flash:has-text("Disabled {name}")')
        assert asked and asked[0].startswith(f"Disable {name}?")
        assert admin.locator(f'#users tr[data-user="{name}"] .state').inner_text() == "disabled"
        assert admin.locator(f'#users tr[data-user="{name}"] .last-login').inner_text() != "never"
        her.reload()
        her.wait_for_url(f"{server.url}/login**")            # her login has ended
    finally:
        ctx.close()
