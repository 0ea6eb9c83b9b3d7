"""End to end in real Chromium through HAProxy (cookie affinity) in front of two console replicas."""
from __future__ import annotations

import pytest

from localcluster.haproxy import COOKIE

from .helpers import ADMIN_PASSWORD, Term, login, wait_dead
from .test_e2e_errors import browser_login
from .test_e2e_terminal import open_pod, type_line, wait_screen

pytestmark = pytest.mark.browser


def on_replica(context, cookie: str) -> str:
    """The replica the balancer's affinity cookie names for this browser."""
    values = [c["value"] for c in context.cookies() if c["name"] == cookie]
    assert len(values) == 1, context.cookies()
    return values[0]


def test_reload_keeps_the_shell_on_its_replica_and_the_other_replica_terminates_it(chromium, make_replicas):
    rs = make_replicas(2)
    context, page = browser_login(chromium, rs, "admin", password=ADMIN_PASSWORD)   # through the balancer
    try:
        open_pod(page, "demo", "web-1")
        type_line(page, "echo first PID=$$")
        pid = wait_screen(page, r"first PID=(\d+)").group(1)
        session = page.evaluate("() => window.kws.active.session")
        owner = on_replica(context, COOKIE)
        assert owner in rs.servers, owner

        page.reload()
        page.wait_for_selector(".pane.active .status.connected")
        type_line(page, "echo again PID=$$")
        assert wait_screen(page, r"again PID=(\d+)").group(1) == pid   # the same shell
        assert on_replica(context, COOKIE) == owner

        other = next(n for n in rs.servers if n != owner)
        admin = Term(rs[other], login(rs[other]))
        try:
            listed = [s for s in admin.call("sessions", None)["sessions"] if s["session"] == session]
            assert listed and listed[0]["replica"] == owner, listed   # the replica that served it owns it
            assert admin.call("terminate", {"session": session})["ok"]
        finally:
            admin.close()
        page.wait_for_selector(".pane.active .status.exited")
        assert "terminated by admin admin" in page.locator(".pane.active .status").inner_text()
    finally:
        context.close()


def test_the_tab_of_a_killed_replica_says_it_was_lost(chromium, make_replicas):
    rs = make_replicas(2)
    context, page = browser_login(chromium, rs, "admin", password=ADMIN_PASSWORD)   # through the balancer
    context.set_default_timeout(30000)
    try:
        open_pod(page, "demo", "web-1")
        type_line(page, "echo PID=$$")
        pid = int(wait_screen(page, r"PID=(\d+)").group(1))
        rs.kill(on_replica(context, COOKIE))
        # The socket reconnects through the balancer to the survivor, which reaps the lost replica's shells.
        page.wait_for_selector(".pane.active .status.exited")
        assert "replica lost" in page.locator(".pane.active .status").inner_text()
        assert wait_dead(pid, 15), f"shell {pid} outlived its replica"
    finally:
        context.close()
