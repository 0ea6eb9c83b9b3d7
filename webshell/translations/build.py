"""Rebuild the catalogs: extract the msgids, fill in zh_CN from zh_CN.py, write .po and the compiled .mo.

    .venv/bin/python -m webshell.translations.build          # after changing a string
The compiled messages.mo is committed, so neither ./dev nor a deployment compiles anything.
Exits non-zero, naming them, when a msgid has no translation.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from .extract_js import js_ids
from .zh_CN import ZH, ZH_JS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def server_ids() -> list[str]:
    """gettext/_/_l calls in webshell/*.py and the templates, in order of appearance."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    seen: dict[str, None] = {}
    for folder, method in (("webshell", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT / folder, [(pattern, method)],
                                                                      keywords=keywords):
            seen.setdefault(message if isinstance(message, str) else message[0], None)
    return list(seen)


def write(domain: str, ids: list[str], table: dict[str, str], compiled: bool) -> list[str]:
    catalog = Catalog(locale="zh_CN", domain=domain, project="kube-webshell")
    missing = []
    for msgid in ids:
        if msgid not in table:
            missing.append(msgid)
        catalog.add(msgid, table.get(msgid, ""))
    out = HERE / "zh_Hans_CN" / "LC_MESSAGES"   # where Babel looks for zh_CN
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"{domain}.po").open("wb") as f:
        write_po(f, catalog, omit_header=True, sort_output=True, width=0)
    if compiled:
        with (out / f"{domain}.mo").open("wb") as f:
            write_mo(f, catalog)
    return missing


def main() -> int:
    missing = write("messages", server_ids(), ZH, compiled=True) + write("js", js_ids(ROOT / "static"), ZH_JS, compiled=False)
    for m in missing:
        print(f"no zh_CN translation: {m!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
