"""Serve the npm-installed front-end libraries from node_modules (no CDN: intranets have no internet)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("vendor", __name__)
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Only these files are served; everything else in node_modules stays private.
ASSETS = {
    "xterm.js": "@xterm/xterm/lib/xterm.js",
    "xterm.css": "@xterm/xterm/css/xterm.css",
    "addon-fit.js": "@xterm/addon-fit/lib/addon-fit.js",
    "addon-search.js": "@xterm/addon-search/lib/addon-search.js",
    "addon-web-links.js": "@xterm/addon-web-links/lib/addon-web-links.js",
    "addon-unicode11.js": "@xterm/addon-unicode11/lib/addon-unicode11.js",
    "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "asciinema-player.min.js": "asciinema-player/dist/bundle/asciinema-player.min.js",
    "asciinema-player.css": "asciinema-player/dist/bundle/asciinema-player.css",
}


@bp.get("/vendor/<name>")
def asset(name: str):
    rel = ASSETS.get(name)
    if rel is None or not (NODE_MODULES / rel).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, rel, max_age=3600)
