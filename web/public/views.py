"""The home page, the language switch and the health check."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request

from tierwatch.web.auth import ANYONE, allow
from tierwatch.web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, same_site_path
from tierwatch.web.public.blueprint import bp


@bp.get("/")
@allow(ANYONE)
def index() -> str:
    return render_template("public/index.html")


@bp.get("/lang/<code>")
@allow(ANYONE)
def language(code: str) -> Any:
    """A plain link, so it works without JavaScript; the choice is remembered for a year."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(same_site_path(request.args.get("next")))
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/healthz")
@allow(ANYONE)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
