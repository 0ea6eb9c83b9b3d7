"""Debug containers for images without a shell, on the real node against the distroless image."""
from __future__ import annotations

import re

import pytest

from localcluster import realpods

from .helpers import Term, login
from .test_access import PW, add_user, admin_events

DISTROLESS = {"cluster": "kws-local", "namespace": realpods.NAMESPACE, "pod": "distroless", "container": "app",
              "cols": 100, "rows": 30}


def test_debug_container_sees_the_targets_processes_and_files(server, admin, real_target):
    t = Term(server, admin)
    try:
        ack = t.call("open", DISTROLESS)
        assert ack["ok"] is False and ack["error"]["code"] == "no_shell", ack
        ack = t.call("debug", DISTROLESS, timeout=90)
        assert ack["ok"], ack
        assert ack["target_container"] == "app" and ack["container"].startswith("debugger-")
        assert ack["shell"] == "sh"   # busybox: no bash
        s = ack["session"]
        t.send(s, "ps -o pid,args | grep -v grep | grep /app; ls /proc/1/root/; echo DONE-$((1+1))\n")
        t.wait_for(s, r"DONE-2")
        screen = bytes(t.out[s]).split(b"echo DONE-$((1+1))")[-1]      # what the commands printed
        assert re.search(rb"(^|\n) *1 /app\r?\n", screen), screen       # the target's process is PID 1
        assert re.search(rb"\bapp\b.*\bproc\b", screen, re.S), screen   # and its root, with its one file
    finally:
        t.close()
    ev = [e for e in admin_events(server, event="terminal.debug") if e["pod"] == "distroless"]
    assert ev and ev[0]["detail"]["image"] == "kws.local/busybox:1"
    assert ev[0]["detail"]["debug_container"] == ack["container"]


@pytest.mark.parametrize("rights,allowed", [(["--exec"], False), (["--exec", "--debug"], True)])
def test_debug_needs_its_own_right(make_server, real_target, rights, allowed):
    srv = make_server()
    add_user(srv, "erin", ["--namespaces", realpods.NAMESPACE, *rights])
    t = Term(srv, login(srv, "erin", PW))
    try:
        ack = t.call("debug", DISTROLESS, timeout=90)
        assert ack["ok"] is allowed, ack
        if not allowed:
            assert ack["error"]["code"] == "forbidden" and "may not debug" in ack["error"]["message"]
    finally:
        t.close()
    kinds = {e["event"] for e in admin_events(srv, user="erin")}
    assert ("terminal.debug" in kinds) is allowed and ("access.denied" in kinds) is not allowed


def test_debug_refuses_a_command(term, real_target):
    ack = term.call("debug", {**DISTROLESS, "command": ["sh", "-c", "id"]})
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack


@pytest.mark.browser
def test_debug_button_where_no_shell_is_reported(page, server, real_target):
    from .test_e2e_terminal import type_line, wait_screen
    page.goto(f"{server.url}/t/kws-local/{realpods.NAMESPACE}/distroless")
    page.wait_for_selector(".pane.active .status.exited")
    assert "tried bash, sh" in page.locator(".pane.active .status").inner_text()
    page.click(".pane.active .status button.debug")
    page.wait_for_selector(".pane.active .status.connected", timeout=90000)
    assert "debugger-" in page.locator(".tab.active").inner_text()
    type_line(page, "ps -o pid,args | grep -c '^ *1 /app'")
    wait_screen(page, r"\n1\s*(\n|$)")
