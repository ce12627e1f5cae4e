"""WSGI entry point for other servers: ``waitress-serve --call tierwatch.wsgi:make_app`` or
``gunicorn 'tierwatch.wsgi:make_app()'`` (``tierwatch serve`` runs waitress itself)."""

from flask import Flask

from tierwatch.bootstrap import build
from tierwatch.web import create_app


def make_app() -> Flask:
    return create_app(None, build())
