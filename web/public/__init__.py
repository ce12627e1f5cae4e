"""Public pages: importing this package registers every route on ``bp``."""

from tierwatch.web.public import coming, views  # noqa: F401
from tierwatch.web.public.blueprint import bp

__all__ = ["bp"]
