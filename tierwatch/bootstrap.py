"""The composition root: settings in, adapters and wiring out.

The only module that knows every package. It builds the database, bus and search adapters (real
or embedded, per the settings), decides who listens to which domain event, and hands the result
to the CLI, the worker and the web app factory. Nothing here connects until first used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tierwatch.core.db import Handler, UnitOfWork, make_engine, make_session_factory
from tierwatch.core.keys import KeyRing
from tierwatch.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from tierwatch.core.bus import EventBus
    from tierwatch.core.search import SearchIndex
    from tierwatch.monitoring.alerts.catalog import RuleCatalog
    from tierwatch.monitoring.alerts.lease import EvaluatorLease
    from tierwatch.monitoring.alerts.sliding import Sliding
    from tierwatch.monitoring.store import ReportKeys


def event_handlers() -> Mapping[type, Sequence[Handler]]:
    """Domain event -> listeners, run inside the publishing transaction (UnitOfWork.publish)."""
    from tierwatch.monitoring import appevents
    from tierwatch.registry.events import ApplicationDeregistered, FilingApproved, FilingSubmitted
    from tierwatch.risk import service as tiering
    from tierwatch.risk.events import TierChanged, TierOverridden

    return {
        FilingSubmitted: (tiering.on_filing_submitted,),
        # Application events for monitoring, written to the outbox in the same transaction and
        # relayed onto the application topic: the worker re-indexes the reports' tier.
        FilingApproved: (appevents.on_filing_approved,),
        ApplicationDeregistered: (appevents.on_application_deregistered,),
        TierChanged: (appevents.on_tier_changed,),
        TierOverridden: (appevents.on_tier_overridden,),
    }


class Container:
    """Holds the process-wide adapters. Built once per process; nothing connects until used."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def handlers(self) -> Mapping[type, Sequence[Handler]]:
        return event_handlers()

    @cached_property
    def keys(self) -> KeyRing:
        return KeyRing(self.settings.resolved_keys_dir)

    @cached_property
    def report_keys(self) -> ReportKeys:
        """The worker's tracking-code key and contacts' cipher, from the same key ring (and so
        the same "tracking" key) the web process hands codes out with (web/reporters.py)."""
        from tierwatch.monitoring.store import ReportKeys

        return ReportKeys.from_ring(self.keys)

    @cached_property
    def alert_rules(self) -> RuleCatalog:
        from tierwatch.monitoring.alerts.catalog import RuleCatalog

        return RuleCatalog(self.settings.alerts.rules_dir)

    @cached_property
    def alert_lease(self) -> EvaluatorLease:
        """This process's claim to be the one evaluator (advisory lock / lease row)."""
        from datetime import timedelta

        from tierwatch.monitoring.alerts.lease import lease_for

        return lease_for(self.settings.resolved_database_url, self.engine,
                         timedelta(seconds=self.settings.alerts.lease_seconds))

    @cached_property
    def alert_windows(self) -> Sliding | None:
        """The evaluator's windows held in memory, kept across its cycles."""
        from tierwatch.monitoring.alerts.sliding import Sliding

        return Sliding() if self.settings.alerts.windows_in_memory else None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.handlers, self.keys)

    @cached_property
    def bus(self) -> EventBus:
        if self.settings.bus == "kafka":
            from tierwatch.core.bus.kafka import KafkaBus
            from tierwatch.monitoring.topics import kafka_consumer_options, kafka_producer_options

            # The producer may send dead letters as large as anything the intake topics accept.
            return KafkaBus(
                self.settings.kafka_bootstrap,
                topic_prefix=self.settings.kafka_topic_prefix,
                partitions=self.settings.kafka_partitions,
                producer_options=kafka_producer_options(self.settings.intake),
                consumer_options=kafka_consumer_options(self.settings.intake),
                send_timeout=self.settings.intake.send_timeout,
            )
        from tierwatch.core.bus.sql import SqlBus

        # The same group-membership timing as on Kafka: a member silent this long loses its partitions.
        return SqlBus(self.engine, partitions=self.settings.kafka_partitions,
                      session_timeout=self.settings.intake.session_timeout)

    @cached_property
    def search(self) -> SearchIndex:
        if self.settings.search == "elasticsearch":
            from tierwatch.core.search.elastic import ElasticIndex

            return ElasticIndex(self.settings.elasticsearch_url, prefix=self.settings.index_prefix)
        from tierwatch.core.search.fts import FtsIndex

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FtsIndex(self.settings.search_db_path, prefix=self.settings.index_prefix)

    def close(self) -> None:
        if "alert_lease" in self.__dict__:
            self.alert_lease.release()
        for name in ("bus", "search"):
            if name in self.__dict__:
                self.__dict__[name].close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def build(settings: Settings | None = None) -> Container:
    return Container(settings or load_settings())


