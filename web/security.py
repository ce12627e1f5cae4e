"""Response headers: a Content-Security-Policy that allows nothing inline and nothing from another
origin, and the usual hardening headers. A small after_request rather than flask-talisman: we
need no nonces, and talisman's defaults (redirect to https, HSTS) get in the way of the plain
HTTP server the browser tests and a local run use."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for charts, embedded as SVG images (web/charts.py)
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and not (request.endpoint or "").endswith("_asset"):
        # Pages and API answers may carry personal data: keep them out of every cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
