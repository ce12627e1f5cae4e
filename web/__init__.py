"""Flask app factory. No I/O here: migrations and seeding are CLI commands.

One blueprint per audience, each in web/<audience>/ (blueprint.py holds ``bp``, the view modules
add routes to it), templates under web/templates/<audience>/. Every view declares who may call it
(``@allow`` in web/auth.py); tests/unit/web/test_access_matrix.py holds the expected answer of
every route for every role.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect

from tierwatch.core.context import AppContext

MiB = 1024 * 1024


def create_app(config: dict[str, Any] | None, container: AppContext) -> Flask:
    """The app over the adapters the composition root built (tierwatch.bootstrap; a WSGI server
    calls tierwatch.wsgi:make_app)."""
    app = Flask(__name__)
    settings = container.settings
    secure = settings.secure_cookies
    app.config.update(
        SECRET_KEY=settings.secret_key or container.keys.key("session"),
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure, Path=/ and
        # without Domain: no sibling host or plain-HTTP page can plant or overwrite it.
        SESSION_COOKIE_NAME="__Host-tw_session" if secure else "tw_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        # Werkzeug answers 413 before reading a larger body (a rule file is at most 1 MB, a bulk
        # of 1,000 reports fits; more is split by the client).
        MAX_CONTENT_LENGTH=2 * MiB,
        # The form token lives as long as the session: a slow, stressed reporter keeps the form.
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
        # No X-RateLimit-* headers: with them Flask-Limiter also sets Retry-After on every
        # answer of a limited view (a 503's "retry in 5 s" became 60). The 429 says it (errors.py).
        RATELIMIT_HEADERS_ENABLED=False,
    )
    if config:
        app.config.update(config)
    app.extensions["tierwatch"] = container
    app.jinja_env.add_extension("jinja2.ext.do")  # {% do attrs.update(...) %} in the form macros
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True  # tags leave no blank lines behind

    from tierwatch.web import (
        account, analyst, api, auth, company, errors, i18n, jsonio, labels, limits, navigation, public,
        regulator, security, security_log, uploads, caching, jobs as background,
    )

    jsonio.init_app(app)  # before the blueprints: their routes use its URL converters
    uploads.init_app(app)  # before the CSRF check, which reads the body
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # the API takes bearer tokens only and ignores the cookie: nothing to forge
    i18n.init_app(app)
    security.init_app(app)
    security_log.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    labels.init_app(app)
    background.init_app(app)
    caching.init_app(app)
    app.teardown_request(auth.close_request_uow)
    app.context_processor(lambda: {"current_user": auth.current_user(), "home_endpoint": auth.home_endpoint})

    for blueprint, prefix in ((public.bp, None), (account.bp, "/account"), (company.bp, "/company"),
                              (regulator.bp, "/regulator"), (analyst.bp, "/analyst"), (api.bp, "/api/v1")):
        app.register_blueprint(blueprint, url_prefix=prefix)
    # Flask's own static view gets a declaration too, so the route x role matrix has no exception.
    app.view_functions["static"] = auth.allow(auth.ANYONE)(app.view_functions["static"])
    limits.init_app(app)  # after the routes: it wraps the views that declared a limit
    return app
