"""Import every module that declares tables, so Base.metadata is complete (Alembic, tests)."""

import core.bus.sql  # noqa: F401
import registry.models  # noqa: F401
import monitoring.models  # noqa: F401
import risk.models  # noqa: F401
import antifraud.models  # noqa: F401
