"""Event-bus fixtures: the same `bus` on SQLite, PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest

from tierwatch.core.bus import Consumer, EventBus

PARTITIONS = 6
# Short enough that crash tests finish in seconds; Kafka's broker floor for sessions is 6 s.
SQL_SESSION_TIMEOUT_S = 1.0
KAFKA_CONSUMER_OPTIONS = {  # librdkafka's names
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 1000,
    # An abandoned consumer's heartbeat thread keeps it in the group until this expires.
    "max.poll.interval.ms": 6000,
    "fetch.wait.max.ms": 100,
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def migrated_postgres_engine(postgres_url: str) -> Iterator[object]:
    from tierwatch.core.db import make_engine
    from tierwatch.core.migrate import upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("kafka", marks=pytest.mark.kafka),
    ]
)
def bus(request: pytest.FixtureRequest) -> Iterator[EventBus]:
    if request.param == "kafka":
        yield from _kafka_bus(request.getfixturevalue("kafka_bootstrap"))
        return
    from tierwatch.core.bus.sql import SqlBus
    from tierwatch.core.db import make_engine

    if request.param == "postgres":
        engine = request.getfixturevalue("migrated_postgres_engine")
        sql_bus = SqlBus(engine, partitions=PARTITIONS, session_timeout=SQL_SESSION_TIMEOUT_S)
        yield sql_bus
        sql_bus.close()
        return
    engine = make_engine(request.getfixturevalue("migrated_sqlite"))
    sql_bus = SqlBus(engine, partitions=PARTITIONS, session_timeout=SQL_SESSION_TIMEOUT_S)
    yield sql_bus
    sql_bus.close()
    engine.dispose()


def _kafka_bus(bootstrap: str) -> Iterator[EventBus]:
    from tierwatch.core.bus.kafka import KafkaBus

    prefix = unique("tierwatch-test") + "."
    kafka_bus = KafkaBus(
        bootstrap, topic_prefix=prefix, partitions=PARTITIONS, consumer_options=KAFKA_CONSUMER_OPTIONS
    )
    yield kafka_bus
    kafka_bus.close()
    ours = [t for t in kafka_bus.admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    for deleted in kafka_bus.admin.delete_topics(ours).values() if ours else ():
        deleted.result()


@pytest.fixture
def bus_topic(bus: EventBus) -> str:
    # Unique per test: the PostgreSQL database is shared by the whole session.
    name = unique("events")
    bus.ensure_topics([name])
    return name


@pytest.fixture
def open_consumer(bus: EventBus) -> Iterator[Callable[..., Consumer]]:
    """Opens consumers and closes whatever the test left open (close is idempotent)."""
    opened: list[Consumer] = []

    def open_(group: str, topics: Sequence[str], member_id: str | None = None) -> Consumer:
        consumer = bus.consumer(group, topics, member_id=member_id)
        opened.append(consumer)
        return consumer

    yield open_
    for consumer in opened:
        consumer.close()
