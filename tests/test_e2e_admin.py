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
    assert row.locator("a.audit").get_attribute("href") == f"/admin/audit?session={session}"
    with admin.expect_navigation():
        row.locator("a.audit").click()            # the session's own trail
    assert admin.eval_on_selector_all("#audit tr.event", "trs => trs.map(tr => tr.dataset.event)") == ["terminal.open"]
    admin.goto(f"{server.url}/admin/audit?event=terminal.open&pod=minimal")
    links = admin.eval_on_selector_all("#audit a.recording", "as => as.map(a => a.getAttribute('href'))")
    assert f"/admin/recordings/{session}" in links
    admin.close()


def test_terminate_with_a_reason_tells_the_user_who_and_why(page, server):
    from .test_access import admin_events
    open_pod(page, "demo", "web-2")
    session = page.evaluate("() => window.kws.active.session")
    admin = page.context.new_page()
    admin.goto(f"{server.url}/admin/sessions")
    row = admin.locator(f'tr[data-session="{session}"]')
    row.locator("input.reason").fill('node drain at 18:00 <b>now</b>\nplease save')
    admin.wait_for_timeout(6000)                     # a live refresh (every 5 s) must not drop what was typed
    assert row.locator("input.reason").input_value().startswith("node drain at 18:00")
    admin.once("dialog", lambda d: d.accept())
    row.locator("button", has_text="Terminate").click()
    admin.wait_for_load_state("load")
    card = page.locator(".pane.active .pane-notice")
    card.wait_for()
    assert card.locator("h3").inner_text() == "An admin (admin) ended this terminal"
    assert card.locator(".next-step").inner_text() == "Reason: node drain at 18:00 <b>now</b> please save"
    assert page.locator(".pane.active .pane-notice b").count() == 0          # text, never HTML
    assert card.locator("button", has_text="Reopen").is_visible()
    events = admin_events(server, event="session.terminate")
    assert any(e["detail"].get("session") == session and e["detail"].get("reason", "").startswith("node drain")
               for e in events)
    admin.close()


def test_a_session_taken_over_by_another_tab_says_so_and_can_be_taken_back(page, server):
    open_pod(page, "demo", "web-1")
    session = page.evaluate("() => window.kws.active.session")
    other = page.context.new_page()                 # a second tab of the same browser: its own sessionStorage
    other.goto(server.url)
    item = other.locator(f'#your-sessions li[data-session="{session}"]')
    item.wait_for(timeout=15000)
    assert "open elsewhere" in item.inner_text()
    item.locator("button.attach").click()
    other.wait_for_selector(".pane.active .status.connected")
    card = page.locator(".pane.active .pane-notice")
    card.wait_for()
    assert card.locator("h3").inner_text() == "This terminal was opened in another tab"
    assert "opened in another tab" in page.locator(".pane.active .status").inner_text()
    # The old tab types nothing into the shell now, and its × does not end the shell running in the other tab.
    page.locator(".pane.active .xterm-helper-textarea").focus()
    page.keyboard.type("echo typed-in-the-old-tab\n")
    other.locator(".pane.active .xterm-helper-textarea").focus()
    other.keyboard.type("echo still-$((40+2))\n")
    other.wait_for_function("() => window.kws.active.term.buffer.active.getLine(0) !== undefined &&"
                            " [...Array(window.kws.active.term.buffer.active.length).keys()].some((i) =>"
                            " (window.kws.active.term.buffer.active.getLine(i)?.translateToString() || '').includes('still-42'))")
    text = other.evaluate("() => { const b = window.kws.active.term.buffer.active; return [...Array(b.length).keys()]"
                          ".map((i) => b.getLine(i).translateToString()).join('\\n'); }")
    assert "typed-in-the-old-tab" not in text
    card.locator("button", has_text="Show it here").click()
    page.wait_for_selector(".pane.active .status.connected")
    assert page.locator(".pane.active .pane-notice").count() == 0
    other.locator(".pane.active .pane-notice").wait_for()
    other.close()
