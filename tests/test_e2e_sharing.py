"""In real Chromium: alice shares her terminal with bob, first to watch, then to type; an admin's watch is
shown to her as "being watched by"; she revokes bob and his view ends."""
from __future__ import annotations

import pytest

from .helpers import Term, login
from .test_access import PW, add_user
from .test_e2e_errors import browser_login
from .test_e2e_terminal import screen, type_line, wait_screen

pytestmark = pytest.mark.browser

GUEST_SCREEN = """(p) => {
  if (!window.kwsShared) return false;
  const b = window.kwsShared.term.buffer.active, lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  return new RegExp(p).test(lines.join('\\n'));
}"""


def test_alice_shares_her_terminal_with_bob_and_revokes_him(chromium, make_server):
    srv = make_server()
    add_user(srv, "alice", ["--namespaces", "team-a", "--exec"])
    add_user(srv, "bob")
    actx, alice = browser_login(chromium, srv, "alice")
    bctx, bob = browser_login(chromium, srv, "bob")
    admin = Term(srv, login(srv))
    try:
        alice.goto(f"{srv.url}/t/kws-local/team-a/shell-a")
        alice.wait_for_selector(".pane.active .status.connected")
        type_line(alice, "echo ready-$((3*7))")
        wait_screen(alice, "ready-21")
        alice.click(".pane.active .share-btn")
        alice.fill(".pane.active .share-form input[name=user]", "bob")
        alice.select_option(".pane.active .share-form select[name=mode]", "watch")
        alice.click(".pane.active .share-form button[type=submit]")
        alice.wait_for_selector('.pane.active .share-list li[data-user="bob"]')

        bob.goto(f"{srv.url}/shared")
        bob.click("#shared-list a")
        bob.wait_for_function(GUEST_SCREEN, arg="ready-21")
        assert bob.locator("#shared-mode").inner_text() == "you may watch"
        notice = alice.locator(".pane.active .viewers-notice")
        notice.wait_for()
        assert notice.inner_text() == "Being watched by bob (watching)"
        bob.locator("#shared .xterm").click()
        bob.keyboard.type("echo ignored-$((1+1))\n")        # read-only: refused
        type_line(alice, "echo still-$((5*5))")
        bob.wait_for_function(GUEST_SCREEN, arg="still-25")
        assert not bob.evaluate(GUEST_SCREEN, "ignored-2")

        alice.select_option(".pane.active .share-form select[name=mode]", "join")
        alice.fill(".pane.active .share-form input[name=user]", "bob")
        alice.click(".pane.active .share-form button[type=submit]")
        alice.wait_for_function("() => document.querySelector('.pane.active .viewers-notice').textContent"
                                " === 'Being watched by bob (typing too)'")
        bob.reload()                                         # he joins again, now read-write
        bob.wait_for_function("() => document.getElementById('shared-mode').textContent === 'you may type too'")
        bob.locator("#shared .xterm").click()
        bob.keyboard.type("echo from-bob-$((40+2))\n")
        wait_screen(alice, "from-bob-42")

        assert admin.call("watch", {"session": alice.evaluate("() => window.kws.active.session")})["ok"]
        alice.wait_for_function("() => document.querySelector('.pane.active .viewers-notice').textContent"
                                " === 'Being watched by admin (admin), bob (typing too)'")

        alice.click('.pane.active .share-list li[data-user="bob"] button')
        bob.wait_for_selector("#shared-status.exited")
        assert "access revoked by the owner" in bob.locator("#shared-status").inner_text()
        alice.wait_for_function("() => document.querySelector('.pane.active .viewers-notice').textContent"
                                " === 'Being watched by admin (admin)'")
        bob.keyboard.type("echo late-$((9*9))\n")
        type_line(alice, "echo after-$((6*6))")
        wait_screen(alice, "after-36")
        assert not bob.evaluate(GUEST_SCREEN, "after-36") and "late-81" not in screen(alice)
    finally:
        admin.close()
        actx.close()
        bctx.close()
