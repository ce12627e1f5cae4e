"""Import every module that declares tables, so Base.metadata is complete (Alembic, tests)."""

import core.bus.sql  # noqa: F401
