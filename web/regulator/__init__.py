"""Regulator console: importing this package registers every route on ``bp``."""

from tierwatch.web.regulator import (  # noqa: F401
    disputes, oversight, publishing, review, rulesets, tier_reviews, views,
)
from tierwatch.web.regulator.blueprint import bp

__all__ = ["bp"]
