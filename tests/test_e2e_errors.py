"""End to end in real Chromium: errors in the pane with the next step, error pages, rights as disabled actions."""
from __future__ import annotations

import secrets

import pytest
import requests

from .test_access import PW, add_user

pytestmark = pytest.mark.browser


def browser_login(chromium, server, name, size=(1280, 800), password=PW):
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(20000)
    pg = context.new_page()
    pg.goto(f"{server.url}/login")
    pg.fill("input[name=username]", name)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{server.url}/")
    return context, pg


@pytest.mark.parametrize("pod, what, step", [
    ("distroless", "cannot start a shell", "This image has no shell"),
    ("pending", "pod 'pending' is Pending", "Wait until it runs"),
    ("no-such-pod", "pod 'no-such-pod' not found", "find it again in the tree"),
])
def test_a_terminal_that_cannot_start_says_why_in_its_pane(page, server, pod, what, step):
    page.goto(f"{server.url}/t/kws-local/demo/{pod}")
    card = page.locator(".pane.active .pane-error")
    card.wait_for()
    assert what in card.locator("h3").inner_text()
    assert step in card.locator(".next-step").inner_text()
    assert card.locator("button", has_text="Try again").is_visible()


def test_forbidden_terminal_names_the_namespace_and_the_next_step(chromium, make_server):
    srv = make_server()
    name = f"viewer{secrets.token_hex(2)}"
    add_user(srv, name, ["--namespaces", "demo"])            # may see demo, nothing more
    context, pg = browser_login(chromium, srv, name, (800, 600))
    try:
        ns = pg.locator('#tree li.namespace[data-namespace="demo"]')
        ns.wait_for()
        ns.locator(":scope > .row").click()
        row = pg.locator('#tree li.pod[data-pod="web-1"] > .row')
        row.hover()
        button = row.locator("button.open-term")
        assert button.is_disabled()
        assert 'ask an admin for the "exec" right' in button.get_attribute("title")
        files = row.locator("button.open-files")
        assert files.is_disabled() and "namespace demo" in files.get_attribute("title")
        # The deep link still asks the server, which refuses: the pane says what to do.
        pg.goto(f"{srv.url}/t/kws-local/demo/web-1")
        card = pg.locator(".pane.active .pane-error")
        card.wait_for()
        assert "Ask an admin for access to namespace demo" in card.inner_text()
    finally:
        context.close()


def test_error_pages_in_the_apps_style(page, server, make_server):
    r = requests.get(f"{server.url}/no/such/page")
    assert r.status_code == 404 and "There is nothing here" in r.text and "console.css" in r.text
    assert requests.get(f"{server.url}/api/nope").json()["error"]["code"] == "not_found"
    page.goto(f"{server.url}/no/such/page")
    assert page.locator(".error-page h1").inner_text() == "There is nothing here"
    assert page.locator(".error-page a", has_text="Open the console").is_visible()
    colours = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
        getComputedStyle(document.querySelector('.error-page a')).color]""")
    assert colours[0] != "rgb(255, 255, 255)" or page.evaluate("document.documentElement.dataset.theme") == "light"
    assert colours[0] != colours[1]

    srv = make_server()
    name = f"plain{secrets.token_hex(2)}"
    add_user(srv, name)
    from .helpers import login
    http = login(srv, name, PW)
    r = http.get(f"{srv.url}/admin/sessions")
    assert r.status_code == 403 and "You may not go there" in r.text and "ask an admin" in r.text
