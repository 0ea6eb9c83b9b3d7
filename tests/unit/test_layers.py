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
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)


def test_the_code_keeps_every_contract():
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "5 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("module,line,contract", [
    # auth reaching up into the terminal layer, even inside a function
    ("webshell/auth/views.py", "def _up():\n    from ..terminal import namespace  # noqa\n", "Layers"),
    ("webshell/kube/frames.py", "import flask  # noqa\n", "kube/ never imports Flask"),
    ("webshell/terminal/session.py", "from flask import request  # noqa\n", "terminal domain never imports"),
    ("webshell/pods/views.py", "import kubernetes  # noqa\n", "Only kube/ imports the kubernetes client"),
])
def test_a_violating_import_breaks_the_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "webshell", tmp_path / "webshell", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text() + "\n" + line)
    r = lint(tmp_path)
    assert r.returncode != 0, r.stdout[-2000:]
    broken = [ln for ln in r.stdout.splitlines() if "BROKEN" in ln or contract in ln]
    assert any(contract in ln for ln in broken), r.stdout[-3000:]
