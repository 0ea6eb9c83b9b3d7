"""End to end in real Chromium: sessions outlive the browser tab, closing asks, ended tabs reopen, paste once."""
from __future__ import annotations

import re

import pytest

from .test_e2e_terminal import SCREEN, open_pod, screen, type_line, wait_screen

pytestmark = pytest.mark.browser


def test_a_new_tab_reattaches_a_live_session_with_the_same_shell(page, server):
    open_pod(page, "demo", "web-1")
    type_line(page, "echo first PID=$$")
    pid = wait_screen(page, r"first PID=(\d+)").group(1)
    session = page.evaluate("() => window.kws.active.session")

    other = page.context.new_page()          # same user, its own tab: nothing restored from sessionStorage
    other.goto(f"{server.url}/")
    row = other.locator(f'#your-sessions li[data-session="{session}"]')
    row.wait_for()
    assert "web-1/web" in row.inner_text()
    assert other.locator(".tab").count() == 0
    row.locator("button.attach").click()
    other.wait_for_selector(".pane.active .status.connected")
    other.wait_for_function(f"(p) => new RegExp(p).test(({SCREEN})())", arg=r"first PID=\d+")  # the replay
    type_line(other, "echo second PID=$$")
    assert wait_screen(other, r"second PID=(\d+)").group(1) == pid
    other.wait_for_selector(f'#your-sessions li[data-session="{session}"]', state="detached")   # shown here now
    other.close()


def test_closing_asks_first_and_an_ended_tab_reopens(page):
    open_pod(page, "demo", "web-2")
    type_line(page, "echo PID=$$")
    pid = wait_screen(page, r"PID=(\d+)").group(1)
    page.click(".tab.active .close")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm .confirm-no")                  # keep it
    assert page.locator(".tab").count() == 1
    type_line(page, "echo still PID=$$")
    assert wait_screen(page, r"still PID=(\d+)").group(1) == pid

    type_line(page, "exit 3")
    page.wait_for_selector(".pane.active .status.exited")
    reopen = page.locator(".pane.active .status .reopen")
    assert reopen.is_visible()
    reopen.click()
    page.wait_for_selector(".pane.active .status.connected")
    type_line(page, "echo new PID=$$")
    assert wait_screen(page, r"new PID=(\d+)").group(1) != pid
    page.click(".tab.active .close")                    # running again: asks again
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm .confirm-yes")
    page.wait_for_function("() => document.querySelectorAll('.tab').length === 0")


def test_ctrl_shift_v_pastes_once(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_pod(page, "demo", "web-1")
    page.evaluate("navigator.clipboard.writeText('echo P$((1+1))Q')")
    page.locator(".pane.active .xterm").click()
    page.keyboard.press("Control+Shift+V")
    page.keyboard.press("Enter")
    wait_screen(page, r"(^|\n)P2Q")
    lines = screen(page).splitlines()
    assert "P2Q" in lines, lines[-5:]
    assert not any(re.search(r"Qecho|P2QP|P2Qecho", line) for line in lines), lines[-5:]
    assert sum(line.count("echo P$((1+1))Q") for line in lines) == 1
