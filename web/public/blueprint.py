"""The public pages' blueprint (citizens, no sign-in); the view modules add their routes to it."""

from flask import Blueprint

bp = Blueprint("public", __name__)
