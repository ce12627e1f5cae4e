"""JSON API, mounted at /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from tierwatch.web.api import common, registry, auth, audit, supervision, tiers  # noqa: E402,F401  (registry API)
from tierwatch.web.api import intake  # noqa: E402,F401  (report intake)
from tierwatch.web.api import labels  # noqa: E402,F401  (analysts' verdicts)
