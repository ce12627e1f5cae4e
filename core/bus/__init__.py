"""Event bus port: publish to topics, consume in groups, commit after processing, dead letters.

Two implementations share this interface and one contract test suite:
``core.bus.kafka.KafkaBus`` (Apache Kafka) and ``core.bus.sql.SqlBus`` (a log table in the
relational store, for the embedded default).

Semantics both must keep:
- ``publish``/``publish_many`` return only once the records are durable (Kafka: acks=all).
- Records with the same key go to the same partition and are consumed in publish order.
- Each consumer group sees every record; members of one group share the partitions.
- ``Consumer.commit()`` stores the position after the last record ``poll`` returned. A member
  that dies before committing has its uncommitted records redelivered (at-least-once).
- ``dead_letter`` writes the original bytes with a reason to ``<topic>.dlq``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp: datetime
    headers: dict[str, str] = field(default_factory=dict)


class Consumer(Protocol):
    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]: ...

    def commit(self) -> None: ...

    def assignment(self) -> set[tuple[str, int]]: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    def ensure_topics(self, topics: Sequence[str]) -> None: ...

    def publish(
        self, topic: str, value: bytes, key: str | None = None, headers: dict[str, str] | None = None
    ) -> None: ...

    def publish_many(self, topic: str, items: Iterable[tuple[str | None, bytes]]) -> int: ...

    def consumer(self, group: str, topics: Sequence[str], *, member_id: str | None = None) -> Consumer: ...

    def dead_letter(self, record: Record, reason: str) -> None: ...

    def close(self) -> None: ...


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def dlq_headers(record: Record, reason: str) -> dict[str, str]:
    """Headers of a dead letter: the original headers plus why and where it came from."""
    return {
        **record.headers,
        "reason": reason,
        "source_topic": record.topic,
        "source_partition": str(record.partition),
        "source_offset": str(record.offset),
    }
