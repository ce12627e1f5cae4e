"""Import every module that declares tables, so Base.metadata is complete (Alembic, tests)."""

import tierwatch.core.bus.sql  # noqa: F401
import tierwatch.registry.models  # noqa: F401
import tierwatch.monitoring.models  # noqa: F401
import tierwatch.monitoring.outbox  # noqa: F401
import tierwatch.monitoring.alerts.models  # noqa: F401
import tierwatch.risk.models  # noqa: F401
import tierwatch.antifraud.models  # noqa: F401
import tierwatch.monitoring.public.models  # noqa: F401
