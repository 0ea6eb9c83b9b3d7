"""Terminals shared with you: the list, and one shared terminal to watch or type in (sharing.js's guests)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("shared", __name__)


@bp.get("/shared")
@login_required
def index():
    return render_template("shared.html", session_id="")


@bp.get("/shared/<session_id>")
@login_required
def view(session_id: str):
    return render_template("shared.html", session_id=session_id[:64])
