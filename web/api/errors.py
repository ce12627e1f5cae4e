"""The JSON API answers in JSON even when Flask itself refuses a request (an unknown URL, a
method not allowed, a body that is not JSON): pages keep Flask's HTML answers."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from tierwatch.web.api.blueprint import bp


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    if not request.path.startswith("/api/"):
        return exc
    name = (exc.name or "error").lower().replace(" ", "_")
    return jsonify({"error": name, "message": exc.description}), exc.code or 500
