"""The README's Layout section names every module of the package."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_layout_lists_every_module():
    readme = ROOT.joinpath("README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 4)] if "\n## " in layout[4:] else layout
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "webshell").rglob("*.py")
                     if p.name != "__init__.py" or p.parent.name == "webshell")
    missing = [m for m in modules if m not in layout]
    assert not missing, f"README Layout does not list: {missing}"
