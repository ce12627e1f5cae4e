"""The regulator console's blueprint."""

from flask import Blueprint

bp = Blueprint("regulator", __name__)
