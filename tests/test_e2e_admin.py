"""End to end in real Chromium: the admin's Terminate asks first, and the user's tab says an admin ended it."""
from __future__ import annotations

import pytest

from .test_e2e_terminal import open_pod

pytestmark = pytest.mark.browser


def test_terminate_asks_for_confirmation(page, server):
    open_pod(page, "demo", "web-2")
    session = page.evaluate("() => window.kws.active.session")
    admin = page.context.new_page()
    admin.goto(f"{server.url}/admin/sessions")
    row = admin.locator(f'tr[data-session="{session}"]')
    asked = []

    def dismiss(d):
        asked.append(d.message)
        d.dismiss()
    admin.once("dialog", dismiss)
    row.locator("button", has_text="Terminate").click()
    admin.wait_for_timeout(300)
    assert asked and "End the shell of admin in web-2/web?" in asked[0]
    assert page.locator(".pane.active .status.connected").count() == 1      # kept

    admin.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="Terminate").click()
    admin.wait_for_load_state("load")
    page.wait_for_selector(".pane.active .status.exited")
    assert "terminated by admin" in page.locator(".pane.active .status").inner_text()
    admin.close()


def test_the_sessions_page_updates_itself_and_links_recording_and_audit(page, server):
    admin = page.context.new_page()
    admin.goto(f"{server.url}/admin/sessions")
    open_pod(page, "demo", "minimal")
    session = page.evaluate("() => window.kws.active.session")
    row = admin.locator(f'tr[data-session="{session}"]')
    row.wait_for(timeout=15000)                 # no reload: the page fetched itself
    assert admin.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert row.locator("a.recording").get_attribute("href") == f"/admin/recordings/{session}"
    assert "pod=minimal" in row.locator("a.audit").get_attribute("href")
    admin.goto(f"{server.url}/admin/audit?event=terminal.open&pod=minimal")
    links = admin.eval_on_selector_all("#audit a.recording", "as => as.map(a => a.getAttribute('href'))")
    assert f"/admin/recordings/{session}" in links
    admin.close()
