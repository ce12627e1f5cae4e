"""Flask app factory. No I/O here: migrations and seeding are CLI commands."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tierwatch.core.context import AppContext


def create_app(config: dict[str, Any] | None, container: AppContext) -> Flask:
    """The app over the adapters the composition root built (tierwatch.bootstrap; a WSGI server
    calls tierwatch.wsgi:make_app)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=container.settings.secret_key or container.keys.key("session"),
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if config:
        app.config.update(config)
    app.extensions["tierwatch"] = container

    from tierwatch.web import api, public, security_log

    security_log.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    return app
