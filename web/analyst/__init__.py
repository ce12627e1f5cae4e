"""Analyst console: importing this package registers every route on ``bp``."""

from tierwatch.web.analyst import alert_page, alerts, views  # noqa: F401
from tierwatch.web.analyst.blueprint import bp

__all__ = ["bp"]
