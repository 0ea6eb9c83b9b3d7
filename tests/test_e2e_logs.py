"""End to end in real Chromium: the logs pane beside a terminal follows a container that writes lines."""
from __future__ import annotations

import secrets
import threading
import time

import pytest

from .test_e2e_terminal import open_pod
from .test_e2e_workspace import BOXES, SIZES, stty
from .test_logs import append

pytestmark = pytest.mark.browser


def lines(page) -> list[str]:
    return page.eval_on_selector_all(".logs-pane.shown .logs-lines .line .text", "ls => ls.map(l => l.textContent)")


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_logs_pane_follows_new_lines_within_two_seconds_beside_the_terminal(page, cluster, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_pod(page, "demo", "web-1")
    cols = page.evaluate("() => window.kws.active.term.cols")
    page.click("#logs-toggle")
    page.wait_for_selector(".logs-pane.shown .logs-state:text('following')")
    page.wait_for_function("() => [...document.querySelectorAll('.logs-pane .line .text')]"
                           ".some(l => l.textContent === 'demo/web-1/web line 1')")
    page.wait_for_function(f"() => window.kws.active.term.cols < {cols}")
    b = page.evaluate(BOXES.replace("document.getElementById('files')", "document.querySelector('.logs-pane')"))
    assert b["screen"][2] <= b["files"][0] + 0.5, b           # the logs pane is beside the terminal, not over it
    assert stty(page) == (b["rows"], b["cols"])

    stop = threading.Event()

    def writer():   # the container keeps writing while the test measures
        n = 0
        while not stop.is_set():
            n += 1
            append(cluster, "web-1", "web", f"busy-{n}")
            time.sleep(0.2)
    threading.Thread(target=writer, daemon=True).start()
    try:
        page.wait_for_function("() => [...document.querySelectorAll('.logs-pane .line .text')]"
                               ".some(l => l.textContent.startsWith('busy-'))", timeout=10000)
        for _ in range(3):
            marker = f"marker-{secrets.token_hex(4)}"
            began = time.monotonic()
            append(cluster, "web-1", "web", marker)
            page.wait_for_function("(m) => [...document.querySelectorAll('.logs-pane .line .text')]"
                                   ".some(l => l.textContent === m)", arg=marker, timeout=5000)
            assert time.monotonic() - began < 2.0
    finally:
        stop.set()


def test_logs_options_all_containers_search_pause_and_errors(page, cluster):
    ns = page.locator('#tree li.namespace[data-namespace="demo"]')
    ns.wait_for()
    ns.locator(":scope > .row").click()
    row = ns.locator('li.pod[data-pod="multi"] > .row')
    row.hover()
    row.locator("button.open-logs").click()
    pane = page.locator(".logs-pane.shown")
    pane.locator(".logs-container").select_option("*")
    page.wait_for_function("() => { const t = [...document.querySelectorAll('.logs-pane.shown .line')].map(l => l.innerText);"
                           " return t.includes('[app] demo/multi/app line 3') && t.includes('[sidecar] demo/multi/sidecar line 3'); }")
    prefixes = set(page.eval_on_selector_all(".logs-pane.shown .line .prefix", "ps => ps.map(p => p.textContent)"))
    assert prefixes == {"[app] ", "[sidecar] "}
    pane.locator(".logs-search").fill("sidecar line 2")
    visible = page.eval_on_selector_all(".logs-pane.shown .line:not([hidden]) .text", "ls => ls.map(l => l.textContent)")
    assert visible == ["demo/multi/sidecar line 2"]
    pane.locator(".logs-search").fill("")

    pane.locator(".logs-pause").click()
    assert pane.locator(".logs-state").inner_text() == "paused"
    held = f"while-paused-{secrets.token_hex(3)}"
    append(cluster, "multi", "app", held)
    time.sleep(1.5)
    assert held not in lines(page)
    pane.locator(".logs-pause").click()
    page.wait_for_function("(m) => [...document.querySelectorAll('.logs-pane .line .text')].some(l => l.textContent === m)",
                           arg=held)

    pane.locator(".logs-container").select_option("app")
    pane.locator(".logs-previous").check()
    page.wait_for_function("() => [...document.querySelectorAll('.logs-pane.shown .line .text')]"
                           ".some(l => l.textContent === 'previous run: demo/multi/app line 1')")
    pane.locator(".logs-timestamps").check()
    assert pane.locator(".line .ts").first.is_visible()
    with page.expect_download() as info:
        pane.locator(".logs-download").click()
    assert info.value.suggested_filename == "multi-app-previous.log"

    # The pending pod has no log yet (the API answers 204): the pane says so, with the next step.
    row = ns.locator('li.pod[data-pod="pending"] > .row')
    row.hover()
    row.locator("button.open-logs").click()
    card = page.locator(".logs-pane.shown .pane-error")
    card.wait_for()
    assert card.locator("h3").inner_text() == "No log lines from app"
    assert "has not started" in card.locator(".next-step").inner_text()
