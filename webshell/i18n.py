"""zh-CN and English: the language of a request, Flask-Babel for templates and messages, a catalog for the JS."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_babel import Babel, format_datetime, format_decimal, get_locale

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
COOKIE = "kws_lang"
TRANSLATIONS = Path(__file__).parent / "translations"
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language chosen on the page (a cookie), else the browser's Accept-Language, else English."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh_CN", "zh"], default="en")
    return "zh_CN" if best.startswith("zh") else "en"


def _js_catalogs() -> dict[str, dict[str, str]]:
    """The JS strings of each language (static/*.js call T('...')), read once from js.po."""
    from babel.messages.pofile import read_po   # only when a page is first rendered: CLI commands start faster
    out: dict[str, dict[str, str]] = {}
    for folder in TRANSLATIONS.iterdir():
        po = folder / "LC_MESSAGES" / "js.po"
        if po.exists():
            with po.open("rb") as f:
                out[folder.name] = {m.id: m.string for m in read_po(f) if m.id and m.string}
    return out


def html_lang() -> str:
    """`zh-CN` or `en`: for <html lang> and the language picker."""
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def js_catalog() -> dict[str, str]:
    catalogs = current_app.extensions.get("kws.js_catalogs")
    if catalogs is None:
        catalogs = current_app.extensions["kws.js_catalogs"] = _js_catalogs()
    return catalogs.get(str(get_locale()), {})


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(js_catalog=js_catalog, languages=LANGUAGES,
                                 html_lang=html_lang)
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["when"] = when
    app.register_blueprint(bp)


def filesize(n: float) -> str:
    """Bytes in the request's locale: 1,234.5 KiB."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{format_decimal(n, format='#,##0.#' if i else '#,##0')} {units[i]}"


def when(value) -> str:
    """A time (datetime, ISO text or epoch seconds) in the request's locale, in UTC."""
    import datetime as dt
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    elif isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return format_datetime(value, "medium")


@bp.post("/language")
def choose():
    """Remember the language chosen on the page (CSRF-checked like every form); back to where it was chosen."""
    lang = request.form.get("lang", "")
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("pods.console")
    resp = redirect(target)
    if lang in LANGUAGES:
        resp.set_cookie(COOKIE, lang, max_age=366 * 86400, samesite="Lax", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return resp
