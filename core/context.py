"""What the outer layers (web app, CLI commands) are handed by the composition root.

Declared here, at the bottom of the import graph, so that the web layer can type what it receives
without importing the composition root (tierwatch.bootstrap builds the real one).
"""

from __future__ import annotations

from typing import Any, Protocol

from tierwatch.core.bus import EventBus
from tierwatch.core.db import UnitOfWork
from tierwatch.core.keys import KeyRing
from tierwatch.core.search import SearchIndex
from tierwatch.core.settings import Settings


class AppContext(Protocol):
    settings: Settings

    @property
    def keys(self) -> KeyRing: ...

    @property
    def bus(self) -> EventBus: ...

    @property
    def search(self) -> SearchIndex: ...

    @property
    def alert_rules(self) -> Any:
        """The alert rules in force (monitoring.alerts.catalog.RuleCatalog)."""
        ...

    def uow(self) -> UnitOfWork: ...

    def close(self) -> None: ...
