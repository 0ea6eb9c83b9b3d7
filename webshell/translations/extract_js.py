"""List the strings static/*.js pass to T('...') or t('...'): the msgids of the js domain.

    .venv/bin/python webshell/translations/extract_js.py > webshell/translations/js.ids
pybabel's JavaScript lexer misses calls inside template literals, so this regex does the extraction.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

CALL = re.compile(r"""\b[Tt]\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")""")


def js_ids(static: Path) -> list[str]:
    seen: dict[str, None] = {}
    for path in sorted(static.rglob("*.js")):
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            seen.setdefault(re.sub(r"\\(.)", r"\1", raw), None)
    return list(seen)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    sys.stdout.write("".join(f"{i}\n" for i in js_ids(root / "static")))
