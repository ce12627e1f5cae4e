"""Company portal: importing this package registers every route on ``bp``."""

from tierwatch.web.company import views  # noqa: F401
from tierwatch.web.company.blueprint import bp

__all__ = ["bp"]
