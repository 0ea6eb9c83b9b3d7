"""The layer contract (.importlinter) holds for the code, and breaks on a violating import."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"]


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT, "--config", str(cwd / ".importlinter"), "--no-cache"], cwd=cwd,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin", "COLUMNS": "400"}, capture_output=True, text=True,
                          timeout=120)


def test_the_code_keeps_every_contract():
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "7 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("module,line,contract", [
    # auth reaching up into the terminal layer, even inside a function
    ("webshell/auth/views.py", "def _up():\n    from ..terminal import namespace  # noqa\n", "Layers"),
    ("webshell/kube/frames.py", "import flask  # noqa\n", "kube/ never imports Flask"),
    ("webshell/terminal/session.py", "from flask import request  # noqa\n", "terminal domain never imports"),
    ("webshell/pods/views.py", "import kubernetes  # noqa\n", "Only kube/ imports the kubernetes client"),
    # one blueprint reaching into another's internals: the web parts are independent of each other
    ("webshell/files/views.py", "from ..admin import recordings  # noqa\n", "Layers"),
    ("webshell/admin/views.py", "def _x():\n    from ..terminal import namespace  # noqa\n", "never to its Socket.IO"),
    ("webshell/terminal/sharing.py", "from flask import session  # noqa\n", "terminal domain never imports"),
    ("bench/flood.py", "def _x():\n    from tests import helpers  # noqa\n", "never import the tests"),
])
def test_a_violating_import_breaks_the_contract(tmp_path, module, line, contract):
    for package in ("webshell", "bench", "localcluster"):      # the root packages of .importlinter
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.c"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + "\n" + line)
    r = lint(tmp_path)
    assert r.returncode != 0, r.stdout[-2000:]
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith(" BROKEN")]     # one summary line per contract
    assert len(broken) == 1 and contract in broken[0], r.stdout[-3000:]
