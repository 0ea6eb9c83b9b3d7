"""File transfer blueprint: routes under /api/clusters/<c>/namespaces/<ns>/pods/<pod>/files."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("files", __name__)
