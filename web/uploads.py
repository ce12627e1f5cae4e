"""Larger bodies for the few views that take files. The app's MAX_CONTENT_LENGTH (2 MiB) holds
everywhere else; a view declaring ``@upload_limit(n)`` accepts up to ``n`` bytes.

The limit is set before any hook reads the body: Flask-WTF's CSRF check reads the form in its
own before-request hook, so this hook is registered first (create_app calls init_app before
CSRFProtect).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, current_app, request

F = TypeVar("F", bound=Callable[..., Any])
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, the CSRF token and the other fields


def upload_limit(max_bytes: int) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.upload_limit = max_bytes + FORM_OVERHEAD  # type: ignore[attr-defined]
        return view

    return decorate


def _apply_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "upload_limit", None)
    if limit is not None:
        request.max_content_length = limit


def init_app(app: Flask) -> None:
    app.before_request(_apply_limit)
