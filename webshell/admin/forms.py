"""What every admin form shares: admins only, no API token, a refusal shown on the page it came from."""
from __future__ import annotations

import functools

from flask import flash, g, redirect, request, url_for

from ..errors import Forbidden, WebshellError
from .views import admin_required


def admin_form(back: str):
    """A state-changing admin form: CSRF-checked (the app's guard), by a logged-in admin, never with an
    API token; a refusal (bad name, own account) is flashed on page `back`, then 303 to it."""
    def wrap(view):
        @functools.wraps(view)
        @admin_required
        def wrapper(*args, **kwargs):
            if g.get("kws_token_id"):
                raise Forbidden("API tokens cannot manage users, rules or tokens; log in to the console")
            try:
                view(*args, **kwargs)
            except WebshellError as e:
                if e.status >= 500:
                    raise
                flash(e.message, "error")
            return redirect(url_for(back, **{k: v for k, v in request.args.items() if k in ("user", "cluster")}),
                            303)
        return wrapper
    return wrap


def flag(name: str) -> bool:
    return request.form.get(name) in ("on", "1", "true", "yes")
