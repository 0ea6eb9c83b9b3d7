"""End to end in real Chromium: pickers, typing, resize, reload, deep links, wide characters."""
from __future__ import annotations

import re

import pytest

from .helpers import stty_size_when

pytestmark = pytest.mark.browser

SCREEN = """() => {
  const t = [...window.kws.tabs.values()].find((x) => x.pane.classList.contains('active'));
  if (!t) return '';
  const b = t.term.buffer.active, lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  return lines.join('\\n');
}"""


def screen(page) -> str:
    return page.evaluate(SCREEN)


def wait_screen(page, pattern: str, timeout: float = 20000) -> re.Match:
    page.wait_for_function(f"(p) => new RegExp(p).test(({SCREEN})())", arg=pattern, timeout=timeout)
    return re.search(pattern, screen(page))


def type_line(page, text: str) -> None:
    page.locator(".pane.active .xterm").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def open_from_pickers(page, namespace="demo", pod="web-1") -> None:
    """Open a terminal from the sidebar tree: expand the namespace, press the pod's >_ button."""
    open_pod(page, namespace, pod)


def open_pod(page, namespace="demo", pod="web-1") -> None:
    ns = page.locator(f'#tree li.namespace[data-namespace="{namespace}"]')
    ns.wait_for()
    if ns.get_attribute("aria-expanded") != "true":
        ns.locator(":scope > .row").click()
    row = ns.locator(f'li.pod[data-pod="{pod}"] > .row')
    row.hover()
    row.locator("button.open-term").click()
    page.wait_for_selector(".pane.active .status.connected")


def term_size(page) -> tuple[int, int]:
    return tuple(page.evaluate("""() => { const t = [...window.kws.tabs.values()]
        .find((x) => x.pane.classList.contains('active')); return [t.term.rows, t.term.cols]; }"""))


def test_type_resize_reload(page, target):
    open_from_pickers(page, target.namespace, target.pod)
    assert f"{target.pod}/{target.container}" in page.locator(".tab.active").inner_text()
    type_line(page, "echo e2e-$((6*7)) PID=$$")
    pid = wait_screen(page, r"e2e-42 PID=(\d+)").group(1)

    rows, cols = term_size(page)
    type_line(page, "stty size")
    wait_screen(page, rf"\n{rows} {cols}\b")
    page.set_viewport_size({"width": 760, "height": 420})
    page.wait_for_function(f"() => {{ const t = [...window.kws.tabs.values()][0]; "
                           f"return t.term.cols !== {cols} && t.term.rows !== {rows}; }}")
    rows2, cols2 = term_size(page)
    type_line(page, "clear; " + stty_size_when(rows2, cols2))   # the resize is not ordered with stdin
    wait_screen(page, rf"seen={rows2} {cols2}=")

    page.reload()
    page.wait_for_selector(".pane.active .status.connected")
    wait_screen(page, r"\S")   # the replay redraws the recent output
    type_line(page, "echo again PID=$$")
    assert wait_screen(page, r"again PID=(\d+)").group(1) == pid


def test_deep_link_and_wide_characters(page, server):
    page.goto(f"{server.url}/t/kws-local/demo/multi?container=sidecar")
    page.wait_for_selector(".pane.active .status.connected")
    assert "multi/sidecar" in page.locator(".tab.active").inner_text()
    type_line(page, "pwd; printf 'W:\\344\\270\\255\\346\\226\\207\\360\\237\\230\\200:E\\n'")
    wait_screen(page, r"/demo/multi/sidecar")
    wait_screen(page, r"W:中文😀:E")
    widths = page.evaluate("""() => {
      const t = [...window.kws.tabs.values()][0], b = t.term.buffer.active;
      for (let i = b.length - 1; i >= 0; i--) {
        const line = b.getLine(i), s = line.translateToString(true);
        if (s.startsWith('W:')) { const w = []; for (let x = 0; x < 9; x++) w.push(line.getCell(x).getWidth()); return w; }
      }
      return null; }""")
    # W : 中(2 cells) 文(2 cells) 😀(2 cells) : E  — each wide glyph is a 2 followed by a 0
    assert widths == [1, 1, 2, 0, 2, 0, 2, 0, 1]


def test_bad_target_shows_a_message(page, server):
    page.goto(f"{server.url}/t/kws-local/demo/pending")
    page.wait_for_selector(".pane.active .status.exited")
    assert "pod 'pending' is Pending" in page.locator(".pane.active .status").inner_text()


def test_closing_the_tab_ends_the_shell(page, target):
    open_from_pickers(page, target.namespace, target.pod)
    type_line(page, "echo PID=$$")
    pid = int(wait_screen(page, r"PID=(\d+)").group(1))
    page.click(".tab.active .close")
    page.wait_for_selector("#confirm[open]")
    assert "End the shell" in page.locator("#confirm .confirm-text").inner_text()
    page.click("#confirm .confirm-yes")
    assert target.wait_dead(pid), "closing the tab must end the shell"
    # With no terminal left, the file browser follows the tree's selection, not the closed tab.
    ns = page.locator(f'#tree li.namespace[data-namespace="{target.namespace}"]')
    ns.locator(f'li.pod[data-pod="{target.other_pod}"] > .row .label').click()
    assert page.evaluate("() => window.kws.activeTarget().pod") == target.other_pod
    assert page.locator("#empty").is_visible()


def test_deep_link_with_open_terminals_and_visible_status(page, server):
    open_from_pickers(page, pod="web-1")
    page.goto(f"{server.url}/t/kws-local/demo/web-2")
    page.wait_for_function("() => [...document.querySelectorAll('.tab')].length === 2")
    page.wait_for_selector(".pane.active .status.connected")
    assert "web-2/web" in page.locator(".tab.active").inner_text()
    assert page.evaluate("location.pathname") == "/"   # a reload must not open a third terminal
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.status.connected').length === 2")
    assert page.locator(".tab").count() == 2
    box = page.locator(".pane.active .status").bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["height"] > 10 and box["y"] + box["height"] <= height


def test_paste_and_search(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_from_pickers(page, pod="web-1")
    page.evaluate("navigator.clipboard.writeText('echo pasted-$((2+3))')")
    page.locator(".pane.active .xterm").click()
    page.keyboard.press("Control+Shift+V")
    page.keyboard.press("Enter")
    wait_screen(page, r"pasted-5")
    page.keyboard.press("Control+Shift+F")
    page.fill("#search-input", "pasted-5")
    page.press("#search-input", "Enter")
    page.wait_for_function("() => [...window.kws.tabs.values()][0].term.getSelection() === 'pasted-5'")
    page.press("#search-input", "Escape")
    assert page.locator("#search").is_hidden()
