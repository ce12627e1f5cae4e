"""Company portal: importing this package registers every route on ``bp``."""

from tierwatch.web.company import applications, notices, views, work  # noqa: F401
from tierwatch.web.company.blueprint import bp

__all__ = ["bp"]
