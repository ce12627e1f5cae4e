"""The public pages' blueprint; the view modules add their routes to it."""

from flask import Blueprint

bp = Blueprint("public", __name__, template_folder="../templates")
