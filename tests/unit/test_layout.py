"""The README's Layout section names every module of the package; code shapes kept in one place."""
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


def test_only_errors_py_builds_a_json_error_body():
    """Every {"error": {"code", "message"}} comes from errors.error_json: one shape, one place."""
    import re
    by_hand = re.compile(r"""jsonify\(\s*error\s*=|["']error["']\s*:\s*\{\s*["']code["']""")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "webshell").rglob("*.py") if p.name != "errors.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if by_hand.search(line)]
    assert not found, f"JSON error bodies written by hand (use errors.error_json): {found}"


def test_an_exec_is_opened_on_a_connection_with_its_options_by_keyword():
    """ExecStream.open(conn, argv, *, tty, stdin, stderr): the connection carries where and how to reach it."""
    import inspect

    from webshell.kube.execstream import ExecStream
    params = list(inspect.signature(ExecStream.open).parameters.values())
    assert [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY] == ["conn", "argv"]
    assert [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY] == ["tty", "stdin", "stderr"]
