"""End to end in real Chromium: the admin's recordings, filtered, sorted by duration and paged."""
from __future__ import annotations

import time

import pytest

from .helpers import ADMIN_PASSWORD, Term, login

pytestmark = pytest.mark.browser


def test_recordings_are_paged_filtered_sorted_and_timed(chromium, make_server):
    srv = make_server(recordings_page_size=2)
    http = login(srv)
    t = Term(srv, http)
    try:
        ids = {}
        for pod, hold in (("web-1", 0.2), ("web-2", 3.2), ("multi", 0.2)):
            ids[pod] = t.open(pod)
            t.send(ids[pod], "echo hi\n")
            time.sleep(hold)
            t.send(ids[pod], "echo bye\n")
            t.wait_for(ids[pod], "bye")
            assert t.call("close", {"session": ids[pod]})["ok"]
    finally:
        t.sio.disconnect()
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20000)
    pg = context.new_page()
    try:
        pg.goto(f"{srv.url}/login")
        pg.fill("input[name=username]", "admin")
        pg.fill("input[name=password]", ADMIN_PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(f"{srv.url}/")
        pg.goto(f"{srv.url}/admin/recordings")
        def go(selector):
            with pg.expect_navigation():
                pg.click(selector)
        rows = lambda: pg.eval_on_selector_all("#recordings tbody tr", "trs => trs.map(tr => tr.dataset.session)")  # noqa: E731
        assert rows() == [ids["multi"], ids["web-2"]]                     # newest first, two a page
        assert "page 1 of 2, 3 recordings" in pg.inner_text(".pager")
        go(".pager a.next")
        assert rows() == [ids["web-1"]]
        go('a.sort[data-key="duration"]')                          # the longest first, from page 1 again
        assert rows()[0] == ids["web-2"]
        seconds = pg.get_attribute(f'tr[data-session="{ids["web-2"]}"] td.duration', "data-seconds")
        assert 3 <= int(seconds) < 30
        assert pg.inner_text(f'tr[data-session="{ids["web-2"]}"] td.duration').startswith("0:0")
        pg.fill("input[name=pod]", "web-")
        go(".filters button[type=submit]")
        assert sorted(rows()) == sorted([ids["web-1"], ids["web-2"]]) and "2 recordings" in pg.inner_text(".pager")
        pg.fill("input[name=pod]", "")
        pg.fill("input[name=date]", "2001-01-01")
        go(".filters button[type=submit]")
        assert rows() == [] and "No matching recordings." in pg.inner_text("main")
        # The links lead from a recording to its audit trail, and from the audit rows to the recording.
        pg.goto(f"{srv.url}/admin/recordings?pod=web-2")
        go(f'tr[data-session="{ids["web-2"]}"] a.audit')
        events = pg.eval_on_selector_all("#audit tr.event", "trs => trs.map(tr => tr.dataset.event)")
        assert "terminal.open" in events and "terminal.close" in events
        assert f"/admin/recordings/{ids['web-2']}" in pg.eval_on_selector_all(
            "#audit a.recording", "as => as.map(a => a.getAttribute('href'))")
        r = http.get(f"{srv.url}/api/admin/recordings", params={"sort": "bogus"})
        assert r.status_code == 400
    finally:
        context.close()
