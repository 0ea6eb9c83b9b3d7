"""End to end in real Chromium: drop files on the console, watch them land, browse, download."""
from __future__ import annotations

import base64
import os
import secrets
import time
from pathlib import Path

from localcluster import demo

HOSTILE = '<img src=x onerror="document.title=1">.txt'


def wait_state(page, predicate: str, arg=None) -> None:
    """Wait (generously: each step is an exec through a busy API server); on timeout, say what the panel shows."""
    try:
        page.wait_for_function(predicate, arg=arg, timeout=60000)
    except Exception as e:  # noqa: BLE001 - re-raised with the panel's state
        state = page.evaluate("() => [document.getElementById('files').dataset.path].concat("
                              "['.files-path', '.files-error', '.files-title'].map((s) => {"
                              " const n = document.querySelector(s); return n ? (n.value ?? n.textContent) : null; }))")
        raise AssertionError(f"{predicate} never held; file browser shows {state}") from e


def open_web2(page, server) -> None:
    """Open a terminal in demo/web-2 by deep link: the file browser follows the active terminal."""
    page.goto(f"{server.url}/t/kws-local/demo/web-2?container=web")
    page.wait_for_function("() => { const t = window.kws && window.kws.activeTarget();"
                           " return !!t && t.pod === 'web-2' && t.container === 'web'; }")


def test_drop_two_files_then_browse_and_download(page, server, cluster, tmp_path):
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"e2e-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    one, two = os.urandom(3 * 1024 * 1024 + 7), os.urandom(200_000)

    open_web2(page, server)
    page.click("#files-toggle")
    page.fill(".files-path", str(box))
    page.press(".files-path", "Enter")
    page.wait_for_function("() => document.querySelector('.files-title').textContent.includes('web-2')")
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [str(box)])

    page.evaluate("""([a, b, hostile]) => {
        const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes(a)], 'one.bin'));
        dt.items.add(new File([bytes(b)], hostile));
        const target = document.getElementById('terminals');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""", [base64.b64encode(one).decode(), base64.b64encode(two).decode(), HOSTILE])

    page.wait_for_selector(".files-transfers li.transfer.done >> nth=1", timeout=60000)
    done = page.eval_on_selector_all(".files-transfers li.transfer",
                                     "lis => lis.map(li => [li.className, li.querySelector('progress').value,"
                                     " li.querySelector('.pct').textContent])")
    assert sorted(done) == [["transfer done", 100, "100 %"]] * 2
    assert (box / "one.bin").read_bytes() == one
    assert (box / HOSTILE).read_bytes() == two

    page.wait_for_selector('.files-list li[data-name="one.bin"]', timeout=60000)
    names = page.eval_on_selector_all(".files-list li .name", "ns => ns.map(n => n.textContent)")
    assert sorted(names) == sorted(["one.bin", HOSTILE])
    assert page.locator(".files-list img").count() == 0 and page.title() != "1"   # shown as text only

    with page.expect_download() as info:
        page.click('.files-list li[data-name="one.bin"] a.download')
    saved = tmp_path / "got.bin"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "one.bin"
    assert Path(saved).read_bytes() == one


def test_errors_show_in_place_in_the_file_browser(page, server):
    open_web2(page, server)
    page.click("#files-toggle")
    page.wait_for_selector(".files-list li", timeout=60000)
    page.fill(".files-path", "/root")
    page.press(".files-path", "Enter")
    wait_state(page, "() => document.querySelector('.files-error').textContent.includes('permission denied')")
    assert page.locator(".files-list li").count() > 0       # the previous listing stays


def test_cancel_in_the_browser_leaves_nothing_in_the_container(page, server, cluster):
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"e2e-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    open_web2(page, server)
    page.click("#files-toggle")
    page.fill(".files-path", str(box))
    page.press(".files-path", "Enter")
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [str(box)])
    page.evaluate("""() => {
        const part = new Uint8Array(4 * 1024 * 1024).fill(7);
        window.kws.files.enqueue([{ file: new File(Array(100).fill(part), 'big.bin'), rel: 'big.bin' }]);
    }""")
    page.wait_for_function("() => { const p = document.querySelector('.files-transfers li progress');"
                           " return p && p.value > 0; }", timeout=60000)
    deadline = time.monotonic() + 30
    while not list(box.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in box.iterdir()] and not (box / "big.bin").exists(), \
        page.inner_text(".files-transfers")   # only the temporary
    page.click(".files-transfers li .cancel")
    page.wait_for_selector(".files-transfers li.cancelled")
    assert page.inner_text(".files-transfers li .status-text") == "cancelled"
    deadline = time.monotonic() + 20
    while list(box.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(box.iterdir()) == []


def test_a_listing_that_arrives_late_keeps_the_path_being_typed(page, server, cluster):
    """The first listing may come back while the user types a path: it must not overwrite their text."""
    held = []
    page.route("**/files/list?*", lambda route: held.append(route))   # hold the listing until typed
    open_web2(page, server)
    page.click("#files-toggle")
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 1, f"{len(held)} listings requested on opening the file browser"
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"e2e-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    page.fill(".files-path", str(box))
    held[0].continue_()
    page.unroute("**/files/list?*")
    home = str(demo.container_dir(cluster.sandbox, "demo", "web-2", "web"))
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [home])
    assert page.input_value(".files-path") == str(box)     # the late listing kept the typed text
    page.press(".files-path", "Enter")
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [str(box)])
    assert page.input_value(".files-path") == str(box)


def test_a_listing_that_arrives_between_select_all_and_typing_is_not_spliced_in(page, server, cluster):
    """Click in, select all, the first listing lands, then type: the box holds what was typed, not cwd + it."""
    held = []
    page.route("**/files/list?*", lambda route: held.append(route))
    open_web2(page, server)
    page.click("#files-toggle")
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert len(held) == 1, f"{len(held)} listings requested on opening the file browser"
    page.focus(".files-path")
    page.evaluate("() => document.querySelector('.files-path').select()")
    held[0].continue_()
    page.unroute("**/files/list?*")
    home = str(demo.container_dir(cluster.sandbox, "demo", "web-2", "web"))
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [home])
    page.keyboard.insert_text("/typed")
    assert page.input_value(".files-path") == "/typed"
