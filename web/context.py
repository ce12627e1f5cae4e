"""The adapters the app was created with (see create_app), for views and helpers."""

from __future__ import annotations

from flask import Flask

from tierwatch.core.context import AppContext


def container_of(app: Flask) -> AppContext:
    return app.extensions["tierwatch"]
