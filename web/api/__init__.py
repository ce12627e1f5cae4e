"""JSON API, mounted at /api/v1: importing this package registers every route on ``bp``."""

from tierwatch.web.api import (  # noqa: F401
    audit, auth, common, docs, intake, labels, public, registry, review_flags, supervision, tiers,
)
from tierwatch.web.api.blueprint import bp

__all__ = ["bp"]
