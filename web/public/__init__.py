"""Public pages: importing this package registers every route on ``bp``."""

from tierwatch.web.public import awareness, check, registry, report, status, trends, views  # noqa: F401
from tierwatch.web.public.blueprint import bp

__all__ = ["bp"]
