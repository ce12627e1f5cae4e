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
        SECRET_KEY=container.settings.secret_key or _dev_secret(container),
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if config:
        app.config.update(config)
    app.extensions["tierwatch"] = container

    from tierwatch.web import api, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    return app


def _dev_secret(container: AppContext) -> str:
    # A per-data-dir random key, created by `tierwatch db upgrade`; never a constant in code.
    key_file = container.settings.data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    raise RuntimeError("TIERWATCH_SECRET_KEY is not set and no var/secret_key exists; run `tierwatch db upgrade`")
