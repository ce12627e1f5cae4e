"""JSON API, mounted at /api/v1: importing this package registers every route on ``bp``."""

from tierwatch.web.api import audit, auth, common, docs, intake, labels, public, registry, supervision, tiers  # noqa: F401
from tierwatch.web.api.blueprint import bp

__all__ = ["bp"]
