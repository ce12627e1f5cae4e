"""Composition root: wires settings to the real adapters or the embedded ones."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tierwatch.core.db import UnitOfWork, make_engine, make_session_factory
from tierwatch.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from tierwatch.core.bus import EventBus
    from tierwatch.core.search import SearchIndex


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

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    @cached_property
    def bus(self) -> "EventBus":
        if self.settings.bus == "kafka":
            from tierwatch.core.bus.kafka import KafkaBus

            return KafkaBus(
                self.settings.kafka_bootstrap,
                topic_prefix=self.settings.kafka_topic_prefix,
                partitions=self.settings.kafka_partitions,
            )
        from tierwatch.core.bus.sql import SqlBus

        return SqlBus(self.engine, partitions=self.settings.kafka_partitions)

    @cached_property
    def search(self) -> "SearchIndex":
        if self.settings.search == "elasticsearch":
            from tierwatch.core.search.elastic import ElasticIndex

            return ElasticIndex(self.settings.elasticsearch_url, prefix=self.settings.index_prefix)
        from tierwatch.core.search.fts import FtsIndex

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FtsIndex(self.settings.search_db_path, prefix=self.settings.index_prefix)

    def close(self) -> None:
        for name in ("bus", "search"):
            if name in self.__dict__:
                self.__dict__[name].close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def build(settings: Settings | None = None) -> Container:
    return Container(settings or load_settings())
