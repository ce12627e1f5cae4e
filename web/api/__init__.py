"""JSON API, mounted at /api/v1: importing this package registers every route on ``bp``."""

from tierwatch.web.api import (  # noqa: F401
    alert_admin, alerts, audit, auth, common, docs, intake, labels, public, registry, review_flags, supervision,
    tier_reviews, tiers,
)
from tierwatch.web.api.blueprint import bp

__all__ = ["bp"]
