"""End to end in real Chromium: the Files pane's columns, sorting, filter, new folder, rename, delete and the
total progress of a drop, on the kwok node; and the same actions disabled for a user without the upload right."""
from __future__ import annotations

import base64
import os
import secrets

import pytest

from localcluster import demo

from .test_access import add_user
from .test_e2e_errors import browser_login
from .test_e2e_files import HOSTILE, open_web2, wait_state

pytestmark = pytest.mark.browser


def fresh_box(cluster):
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"e2e-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    return box


def put(path, data: bytes):
    path.write_bytes(data)
    os.chown(path, demo.NOBODY, demo.NOBODY)


def browse(page, server, box) -> None:
    open_web2(page, server)
    page.click("#files-toggle")
    page.wait_for_function("() => document.querySelector('.files-title').textContent.includes('web-2')")
    page.fill(".files-path", str(box))
    page.press(".files-path", "Enter")
    wait_state(page, "([p]) => document.getElementById('files').dataset.path === p", [str(box)])


def names(page) -> list[str]:
    return page.eval_on_selector_all(".files-list li[data-name]", "lis => lis.map(li => li.dataset.name)")


def test_columns_sort_and_filter(page, server, cluster):
    box = fresh_box(cluster)
    put(box / "b-mid", b"x" * 2000)
    put(box / "a-big", b"x" * 9000)
    put(box / "c-small", b"x")
    (box / "root-owned").write_bytes(b"")        # made by the test as root
    (box / "z-dir").mkdir()
    browse(page, server, box)
    page.wait_for_selector('.files-list li[data-name="c-small"]')
    assert names(page) == ["z-dir", "a-big", "b-mid", "c-small", "root-owned"]      # folders first, then by name
    row = page.locator('.files-list li[data-name="a-big"]')
    assert row.locator(".mode").inner_text() == "-rw-r--r--" and row.locator(".owner").inner_text() == "nobody"
    assert page.locator('.files-list li[data-name="root-owned"] .owner').inner_text() == "root"
    assert "8.8 KB" in row.locator(".size").inner_text()
    page.click(".files-columns .col-size")
    assert names(page) == ["z-dir", "root-owned", "c-small", "b-mid", "a-big"]
    page.click(".files-columns .col-size")
    assert names(page) == ["z-dir", "a-big", "b-mid", "c-small", "root-owned"]
    assert page.get_attribute(".files-columns .col-size", "aria-sort") == "descending"
    page.click(".files-columns .col-owner")
    assert names(page)[-1] == "root-owned"
    page.fill(".files-filter", "MI")
    assert names(page) == ["b-mid"]
    assert "4 entries hidden by the filter" in page.inner_text(".files-list li.meta")
    page.fill(".files-filter", "")
    assert len(names(page)) == 5


def test_new_folder_rename_and_delete_with_hostile_names(page, server, cluster):
    box = fresh_box(cluster)
    browse(page, server, box)
    page.click(".files-mkdir")
    page.fill(".files-new input", HOSTILE)
    page.press(".files-new input", "Enter")
    page.wait_for_selector(f'.files-list li[data-name="{HOSTILE.replace(chr(34), chr(92) + chr(34))}"]', timeout=60000)
    assert (box / HOSTILE).is_dir() and page.title() != "1" and page.locator(".files-list img").count() == 0
    put(box / HOSTILE / "inside", b"kept")
    renamed = "$(touch PWNED) 中文 ;x"
    row = page.locator(".files-list li[data-type=dir]").first
    row.locator("button.rename").click()
    edit = page.locator(".files-list li.editing input")
    assert edit.input_value() == HOSTILE
    edit.fill(renamed)
    edit.press("Enter")
    page.wait_for_selector(f'.files-list li[data-name="{renamed}"]', timeout=60000)
    assert (box / renamed / "inside").read_bytes() == b"kept" and not (box / HOSTILE).exists()
    # A taken name is refused in the pane, in words; nothing changes.
    put(box / "taken", b"t")
    page.click(".files-nav button[title='refresh']")
    page.wait_for_selector('.files-list li[data-name="taken"]', timeout=60000)
    page.locator('.files-list li[data-name="taken"] button.rename').click()
    page.fill(".files-list li.editing input", renamed)
    page.press(".files-list li.editing input", "Enter")
    wait_state(page, "() => document.querySelector('.files-error').textContent.includes('Cannot rename')")
    said = page.inner_text(".files-error")
    assert "a file or folder of that name exists. Pick another name." in said and (box / "taken").read_bytes() == b"t"
    page.press(".files-list li.editing input", "Escape")
    # Delete asks first: Cancel keeps the folder, OK removes it with its contents.
    page.locator(f'.files-list li[data-name="{renamed}"] button.delete').click()
    dialog = page.locator("#confirm")
    assert "everything in it" in dialog.locator(".confirm-text").inner_text()
    dialog.locator(".confirm-no").click()
    assert (box / renamed).is_dir()
    page.locator(f'.files-list li[data-name="{renamed}"] button.delete').click()
    dialog.locator(".confirm-yes").click()
    wait_state(page, "([n]) => !document.querySelector(`.files-list li[data-name=\"${CSS.escape(n)}\"]`)", [renamed])
    assert sorted(p.name for p in box.iterdir()) == ["taken"]
    assert not [p for p in box.parent.iterdir() if p.name.startswith("PWNED")]


def test_a_multi_file_drop_shows_its_total(page, server, cluster):
    box = fresh_box(cluster)
    browse(page, server, box)
    blobs = [os.urandom(n) for n in (300_000, 1_000_000, 5)]
    page.evaluate("""(blobs) => {
        const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        blobs.forEach((b, i) => dt.items.add(new File([bytes(b)], `f${i}.bin`)));
        const target = document.getElementById('terminals');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""", [base64.b64encode(b).decode() for b in blobs])
    page.wait_for_selector(".files-total:not([hidden])")
    wait_state(page, "() => document.querySelector('.files-total').dataset.done === 'true'")
    assert page.eval_on_selector(".files-total progress", "p => p.value") == 100
    assert page.inner_text(".files-total-text").startswith("3 of 3 files")
    assert sorted(p.name for p in box.iterdir()) == ["f0.bin", "f1.bin", "f2.bin"]


def _without_upload_right(chromium, make_server, cluster, prefix: str):
    """A console, a user of it who may exec and download in demo but not upload, logged in in
    Chromium, and a fresh folder holding one file: (server, folder, context, page)."""
    srv = make_server()
    name = f"{prefix}{secrets.token_hex(2)}"
    add_user(srv, name, ["--namespaces", "demo", "--exec", "--download"])
    box = fresh_box(cluster)
    put(box / "file", b"f")
    context, pg = browser_login(chromium, srv, name)
    return srv, box, context, pg


def test_without_the_upload_right_the_actions_are_disabled_and_say_why(chromium, make_server, cluster):
    srv, box, context, pg = _without_upload_right(chromium, make_server, cluster, "looker")
    try:
        browse(pg, srv, box)
        pg.wait_for_selector('.files-list li[data-name="file"]')
        for sel in (".files-mkdir", '.files-list li[data-name="file"] button.rename',
                    '.files-list li[data-name="file"] button.delete'):
            assert pg.locator(sel).is_disabled(), sel
            assert 'ask an admin for the "upload" right' in pg.get_attribute(sel, "title"), sel
        # The server refuses too, whatever the page does.
        status = pg.evaluate("""async ([url]) => (await fetch(url, { method: 'POST', headers: {
            'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content, Accept: 'application/json' } })).status""",
                             [f"/api/clusters/kws-local/namespaces/demo/pods/web-2/files/delete?path={box}/file"])
        assert status == 403 and (box / "file").exists()
    finally:
        context.close()


def test_actions_stay_disabled_when_the_rights_arrive_after_the_listing(chromium, make_server, cluster):
    """A deep link opens the pane before the tree knows the user's rights: the listing waits for them,
    so no action is offered enabled in the meantime (until then, unknown rights looked allowed)."""
    srv, box, context, pg = _without_upload_right(chromium, make_server, cluster, "slow")
    held = []
    try:
        pg.route("**/api/clusters/*/rights", lambda route: held.append(route))   # held until the listing is in
        open_web2(pg, srv)
        pg.click("#files-toggle")
        pg.fill(".files-path", str(box))
        pg.press(".files-path", "Enter")
        pg.wait_for_timeout(3000)                 # the listing's answer is in by now
        assert held, "the page never asked for the user's rights"
        for route in held:
            route.continue_()
        pg.unroute("**/api/clusters/*/rights")
        pg.wait_for_selector('.files-list li[data-name="file"]')
        for sel in (".files-mkdir", '.files-list li[data-name="file"] button.rename',
                    '.files-list li[data-name="file"] button.delete'):
            assert pg.locator(sel).is_disabled(), sel
    finally:
        context.close()
