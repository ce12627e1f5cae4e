"""Error answers: JSON under /api/ always (unknown routes, wrong methods, 413 and 429 included),
a page in the visitor's language elsewhere. Bad input is a 4xx, never a 5xx.

The JSON API maps the use cases' errors itself (web/api/common.py); pages get the same mapping
here: NotFound -> 404, Forbidden -> 403, Conflict -> 409.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, make_response, render_template
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tierwatch.core.errors import Conflict, Forbidden, NotFound
from tierwatch.web.auth import is_api_request
from tierwatch.web.security_log import note_security_event


def _title(code: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You may not open this page."),
        404: _("Page not found."),
        405: _("This page does not accept that action."),
        409: _("This cannot be done in the current state."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a minute and try again."),
    }.get(code, _("Something went wrong on our side. Please try again later."))


def error_page(code: int, title: str | None = None) -> tuple[str, int]:
    return render_template("errors/error.html", code=code, title=title or _title(code)), code


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code == 429:
        note_security_event("rate_limited")
    if is_api_request():
        response = jsonify({"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description})
    else:
        response = make_response(error_page(code)[0])
    response.status_code = code
    allow = exc.get_response().headers.get("Allow")
    if allow:  # a 405 says what is allowed
        response.headers["Allow"] = allow
    if isinstance(exc, RateLimitExceeded):  # a 429 says when to come back: at most a window later
        response.headers["Retry-After"] = str(exc.limit.limit.get_expiry())
    return response


def _csrf_error(exc: CSRFError) -> Any:
    note_security_event("csrf_refused")
    # A missing or expired form token: say so in the visitor's language, keep it a 400.
    return error_page(400, _("The form expired. Please go back, reload the page and send it again."))


def _not_found(exc: NotFound) -> Any:
    note_security_event("not_found")  # also what another tenant's object looks like: logged
    return error_page(404)


def _forbidden(exc: Forbidden) -> Any:
    note_security_event("forbidden")
    return error_page(403)


def _conflict(exc: Conflict) -> Any:
    return error_page(409)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(Forbidden, _forbidden)
    app.register_error_handler(Conflict, _conflict)
