"""Account pages: importing this package registers every route on ``bp``."""

from tierwatch.web.account import views  # noqa: F401
from tierwatch.web.account.blueprint import bp

__all__ = ["bp"]
