"""End to end in real Chromium: the workspace (tree, search, splits, panes beside the terminal, memory)."""
from __future__ import annotations

import re
import secrets

import pytest

from .helpers import ADMIN_PASSWORD, stty_size_when
from .test_e2e_terminal import open_pod, type_line, wait_screen

pytestmark = pytest.mark.browser
SIZES = [(1280, 800), (800, 600)]

BOXES = """() => {
  const box = (n) => { if (!n) return null; const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const t = window.kws.active;
  return { screen: box(t.pane.querySelector('.xterm-screen')), host: box(t.host),
           files: box(document.getElementById('files')), rows: t.term.rows, cols: t.term.cols };
}"""


def stty(page) -> tuple[int, int]:
    """What the shell's `stty size` says, once it shows the terminal's size or after 10 s (it then differs)."""
    marker = secrets.token_hex(3)
    rows, cols = page.evaluate("() => [window.kws.active.term.rows, window.kws.active.term.cols]")
    type_line(page, "clear; " + stty_size_when(rows, cols, marker))
    m = wait_screen(page, rf"{marker}=(\d+) (\d+)=")
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_terminal_columns_match_stty_with_files_beside(page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    assert page.locator("#empty").is_visible()
    assert "Pick a pod" in page.locator("#empty").inner_text()
    open_pod(page, "demo", "web-1")
    before = page.evaluate(BOXES)
    page.click("#files-toggle")
    page.wait_for_selector("#files:not([hidden])")
    # The terminal shrinks to make room (it is refitted), and Files sits beside it, not over it.
    page.wait_for_function(f"() => window.kws.active.term.cols < {before['cols']}")
    b = page.evaluate(BOXES)
    assert b["screen"][2] <= b["files"][0] + 0.5, b
    assert b["screen"][2] <= b["host"][2] + 0.5 and b["screen"][3] <= b["host"][3] + 0.5, b
    assert b["files"][2] <= size[0] + 0.5
    assert stty(page) == (b["rows"], b["cols"])
    page.click(".files-tab .close")
    page.wait_for_function(f"() => window.kws.active.term.cols === {before['cols']}")
    assert stty(page) == (before["rows"], before["cols"])


def test_split_side_by_side_and_top_bottom_then_reload_keeps_the_layout(page):
    open_pod(page, "demo", "web-1")
    open_pod(page, "demo", "web-2")
    assert page.locator(".group").count() == 1
    page.locator(".group .split-btn[data-split=row]").click()     # web-2 moves to a new group on the right
    page.wait_for_function("() => document.querySelectorAll('.group').length === 2")
    left, right = page.eval_on_selector_all(".group", "gs => gs.map(g => g.getBoundingClientRect().toJSON())")
    assert right["left"] >= left["right"] - 1 and abs(left["top"] - right["top"]) < 1
    for label in ("web-1/web", "web-2/web"):
        page.locator(".tab", has_text=label).click()
        page.wait_for_function("() => { const t = window.kws.active; return t.term.cols < 120; }")
        rows, cols = page.evaluate("() => [window.kws.active.term.rows, window.kws.active.term.cols]")
        assert stty(page) == (rows, cols)
    # The right group splits top/bottom with a third terminal.
    open_pod(page, "demo", "multi")
    page.locator(".tab.active").click()
    tall = page.evaluate("() => window.kws.active.term.rows")
    page.locator(".group:has(.tab.active) .split-btn[data-split=col]").click()
    page.wait_for_function("() => document.querySelectorAll('.group').length === 3")
    assert page.locator(".split.col").count() == 1
    # The refit follows the new layout a frame later (a ResizeObserver): wait for the shorter pane.
    page.wait_for_function(f"() => window.kws.active.term.rows < {tall}")
    rows, cols = page.evaluate("() => [window.kws.active.term.rows, window.kws.active.term.cols]")
    assert stty(page) == (rows, cols)

    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.status.connected').length === 3")
    assert page.locator(".group").count() == 3
    assert page.locator(".split.row").count() == 1 and page.locator(".split.col").count() == 1


def test_search_finds_pods_across_namespaces_and_the_tree_shows_their_state(page):
    ns = page.locator('#tree li.namespace[data-namespace="demo"]')
    ns.wait_for()
    ns.locator(":scope > .row").click()
    pending = ns.locator('li.pod[data-pod="pending"] > .row')
    pending.wait_for()
    assert "st-warn" in pending.locator(".dot").get_attribute("class")
    web = ns.locator('li.pod[data-pod="web-1"] > .row')
    assert "st-ok" in web.locator(".dot").get_attribute("class")
    assert web.locator(".ready").inner_text() == "1/1"
    assert re.fullmatch(r"\d+[smhd]", web.locator(".age").inner_text())
    # Containers under a pod
    ns.locator('li.pod[data-pod="multi"] > .row .label').click()
    page.wait_for_selector('li.pod[data-pod="multi"] li.container[data-container="sidecar"]')

    page.fill("#pod-search", "shell-")
    page.wait_for_selector('#search-results li.pod[data-pod="shell-b"]')
    found = page.eval_on_selector_all("#search-results li.pod > .row .label", "ls => ls.map(l => l.textContent)")
    assert sorted(found) == ["team-a/shell-a", "team-b/shell-b"]
    row = page.locator('#search-results li.pod[data-pod="shell-b"] > .row')
    row.hover()
    row.locator("button.open-term").click()
    page.wait_for_selector(".pane.active .status.connected")
    assert "shell-b/main" in page.locator(".tab.active").inner_text()


def test_tree_remembers_the_namespace_and_the_sidebar_width(page):
    ns = page.locator('#tree li.namespace[data-namespace="team-a"]')
    ns.wait_for()
    ns.locator(":scope > .row").click()
    page.wait_for_selector('#tree li.pod[data-pod="shell-a"]')
    gutter = page.locator("#sidebar-gutter").bounding_box()
    page.mouse.move(gutter["x"] + 2, gutter["y"] + 100)
    page.mouse.down()
    page.mouse.move(gutter["x"] + 82, gutter["y"] + 100, steps=4)
    page.mouse.up()
    width = page.locator("#sidebar").bounding_box()["width"]
    page.reload()
    page.wait_for_selector('#tree li.pod[data-pod="shell-a"]')
    assert abs(page.locator("#sidebar").bounding_box()["width"] - width) < 2


def test_a_user_without_rules_is_told_to_ask_an_admin(chromium, server):
    name = f"norules{secrets.token_hex(3)}"
    server.create_user(name, ADMIN_PASSWORD)
    context = chromium.new_context(viewport={"width": 800, "height": 600})
    try:
        pg = context.new_page()
        pg.goto(f"{server.url}/login")
        pg.fill("input[name=username]", name)
        pg.fill("input[name=password]", ADMIN_PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_selector("#tree .no-access-text")
        text = pg.locator("body").inner_text()
        assert "You have no access yet: ask an admin" in text
        assert "not found" not in text.lower()
    finally:
        context.close()

