"""Signing in and out, the password, one's own account: every audience uses these pages."""

from flask import Blueprint

bp = Blueprint("account", __name__)
