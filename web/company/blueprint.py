"""The company portal's blueprint (company users see only their own company)."""

from flask import Blueprint

bp = Blueprint("company", __name__)
