"""The JSON API's blueprint, mounted at /api/v1; the view modules add their routes to it."""

from flask import Blueprint

bp = Blueprint("api", __name__)
