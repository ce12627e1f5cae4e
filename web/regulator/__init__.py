"""Regulator console: importing this package registers every route on ``bp``."""

from tierwatch.web.regulator import disputes, oversight, review, rulesets, views  # noqa: F401
from tierwatch.web.regulator.blueprint import bp

__all__ = ["bp"]
