"""The analyst console's blueprint."""

from flask import Blueprint

bp = Blueprint("analyst", __name__)
