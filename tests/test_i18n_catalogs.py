"""The committed zh-CN catalogs cover every string the code and templates use, and the .mo matches the .po."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations

from webshell.translations import build
from webshell.translations.extract_js import js_ids
from webshell.translations.zh_CN import ZH, ZH_JS

MESSAGES = Path(build.HERE) / "zh_Hans_CN" / "LC_MESSAGES"


def test_every_server_string_has_a_translation_in_the_compiled_catalog():
    ids = build.server_ids()
    assert "Live sessions" in ids and "you may not %(verb)s in cluster '%(cluster)s'" in ids
    assert [i for i in ids if i not in ZH] == []
    with (MESSAGES / "messages.mo").open("rb") as f:
        mo = Translations(f)
    stale = [i for i in ids if mo.gettext(i) != ZH[i]]
    assert stale == [], "run `.venv/bin/python -m webshell.translations.build` and commit the catalogs"


def test_every_js_string_has_a_translation_in_js_po():
    ids = js_ids(build.ROOT / "static")
    assert "Reopen" in ids and "Split right: move this tab into a new pane beside" in ids
    assert [i for i in ids if i not in ZH_JS] == []
    with (MESSAGES / "js.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    assert {i: po.get(i) for i in ids} == {i: ZH_JS[i] for i in ids}, "rebuild the catalogs"
