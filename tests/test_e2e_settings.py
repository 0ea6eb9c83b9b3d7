"""End to end in real Chromium: theme, font and scrollback settings kept per user; the shortcuts help."""
from __future__ import annotations

import pytest

from .test_e2e_terminal import open_pod

pytestmark = pytest.mark.browser
OPTIONS = "() => { const o = window.kws.active.term.options; return [o.fontSize, o.fontFamily, o.scrollback, o.theme.background]; }"


def test_theme_font_and_scrollback_apply_at_once_and_after_a_reload(page):
    page.emulate_media(color_scheme="dark")
    open_pod(page, "demo", "web-1")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"   # follows the system by default
    size, family, _, _ = page.evaluate(OPTIONS)
    assert size == 14 and "Noto Sans Mono CJK SC" in family
    cols = page.evaluate("() => window.kws.active.term.cols")

    page.click("#settings-btn")
    page.select_option("#settings select[name=theme]", "light")
    page.fill("#settings input[name=fontSize]", "20")
    page.fill("#settings input[name=fontFamily]", "Liberation Mono")
    page.fill("#settings input[name=scrollback]", "1234")
    page.press("#settings input[name=scrollback]", "Tab")
    page.click("#settings button[value=ok]")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    size, family, scrollback, bg = page.evaluate(OPTIONS)
    assert (size, scrollback, bg) == (20, 1234, "#ffffff")
    assert family.startswith("Liberation Mono,") and "Noto Sans Mono CJK SC" in family   # CJK fallback kept
    page.wait_for_function(f"() => window.kws.active.term.cols < {cols}")            # refitted to the bigger font
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"

    page.reload()
    page.wait_for_selector(".pane.active .status.connected")
    assert page.evaluate(OPTIONS)[0] == 20 and page.evaluate("document.documentElement.dataset.theme") == "light"
    page.click("#settings-btn")
    page.click("#settings .settings-reset")
    assert page.evaluate(OPTIONS)[0] == 14


def test_question_mark_opens_the_shortcuts_help_outside_a_terminal(page):
    page.locator("#empty").click()
    page.keyboard.press("?")
    help_ = page.locator("#help")
    help_.wait_for()
    assert "Ctrl" in help_.inner_text() and "Paste" in help_.inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    open_pod(page, "demo", "web-1")
    page.locator(".pane.active .xterm").click()
    page.keyboard.press("?")                              # typed into the shell, not a dialog
    assert page.locator("#help").is_hidden()
