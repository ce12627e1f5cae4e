"""Figures that may be a minute old (the dashboards), kept in this process (Flask-Caching's
SimpleCache). One cache per app, as with the rate limiter: a module-level one would be shared by
every app in the process (tests build many)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, current_app
from flask_caching import Cache

T = TypeVar("T")
DASHBOARD_SECONDS = 60


def remembered(key: str, compute: Callable[[], T], seconds: int = DASHBOARD_SECONDS) -> T:
    """``compute()``, or what it gave within the last ``seconds`` for the same key."""
    cache: Cache = current_app.extensions["tierwatch_cache"]
    found: Any = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=seconds)
    return found  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    cache = Cache(config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": DASHBOARD_SECONDS,
                          "CACHE_THRESHOLD": 500})
    cache.init_app(app)
    app.extensions["tierwatch_cache"] = cache
