"""Rate limits (Flask-Limiter). A view states its limit with ``@rate_limit(CONFIG_KEY)``;
create_app builds one Limiter per app and applies it to the views that declared one.

One Limiter per app, kept in ``app.extensions``: a module-level Limiter would be shared by every
app in the process, and its init_app overwrites the storage and the ``enabled`` flag, so one test
app with limits off silently turned them off for the next (seen in the prototype). Its limit
wrappers hold the Limiter only weakly, so the app must keep it alive.

Storage (``TIERWATCH_RATE_LIMIT_STORAGE``, default ``memory://``): exact and free for one waitress
process, whose threads share the counters; it resets on restart. With several processes or hosts
each keeps its own counters, so a client spread over N of them gets N times the budget: use
``redis://`` or ``memcached://`` there. Behind a reverse proxy, wrap the app in werkzeug's
ProxyFix, or every client is the proxy's address.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from tierwatch.web.auth import current_user

F = TypeVar("F", bound=Callable[..., Any])

# Config key -> default. Sign-in: a person mistyping gets 5 tries a minute, a guesser 30 an hour.
# Public forms: a 5-step report wizard is 5 posts, so about 6 reports a minute per address.
DEFAULTS = {
    "SIGNIN_LIMIT": "5 per minute;30 per hour",
    "PUBLIC_FORM_LIMIT": "30 per minute;300 per hour",
}
# Limits that only anonymous callers spend: a signed-in partner feed or company is accountable
# by its account (and has its own budget problems to raise with the regulator, not a 429).
ANONYMOUS_ONLY = {"PUBLIC_FORM_LIMIT"}


def rate_limit(config_key: str, methods: list[str] | None = None) -> Callable[[F], F]:
    """Limit this view by the limit string in ``app.config[config_key]`` (e.g. "5 per minute")."""
    if config_key not in DEFAULTS:
        raise ValueError(f"unknown limit {config_key!r}; add it to DEFAULTS in web/limits.py")

    def decorate(view: F) -> F:
        view.rate_limit = (config_key, methods)  # type: ignore[attr-defined]
        return view

    return decorate


def init_app(app: Flask) -> Limiter:
    """Call after the blueprints are registered: it wraps the views that declared a limit."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter = Limiter(get_remote_address, app=app)
    app.extensions["tierwatch_limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        declared = getattr(view, "rate_limit", None)
        if declared is None:
            continue
        key, methods = declared
        exempt = _signed_in if key in ANONYMOUS_ONLY else None
        app.view_functions[endpoint] = limiter.limit(
            _from_config(app, key), methods=methods, exempt_when=exempt)(view)
    return limiter


def _from_config(app: Flask, key: str) -> Callable[[], str]:
    return lambda: str(app.config[key])


def _signed_in() -> bool:
    return current_user() is not None
