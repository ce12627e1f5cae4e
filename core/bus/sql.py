"""Event bus in the relational store: a log table with per-group offsets (embedded default)."""

from __future__ import annotations

import hashlib
import itertools
import math
import time
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.bus import Record, dlq_headers, dlq_topic
from tierwatch.core.clock import utcnow
from tierwatch.core.db import Base
from tierwatch.core.ids import new_id

TopicPartition = tuple[str, int]

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid); PostgreSQL wants BIGINT.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class BusTopic(Base):
    __tablename__ = "bus_topics"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    partitions: Mapped[int] = mapped_column(nullable=False)


class BusRecord(Base):
    __tablename__ = "bus_records"
    __table_args__ = (sa.Index("ix_bus_records_topic_partition_id", "topic", "partition", "id"),)

    # The global id is the offset: ids only grow, so "id > position" is the unread tail.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    partition: Mapped[int] = mapped_column(nullable=False)
    key: Mapped[str | None] = mapped_column(sa.String(500))
    value: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    headers: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    timestamp: Mapped[datetime] = mapped_column(nullable=False)


class BusOffset(Base):
    __tablename__ = "bus_offsets"

    group_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(primary_key=True)
    # Id of the last record the group has processed in this partition (0: none yet).
    position: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)


class BusMember(Base):
    __tablename__ = "bus_members"

    group_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    member_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    heartbeat: Mapped[datetime] = mapped_column(nullable=False)


def partition_for(key: str, partitions: int) -> int:
    # crc32, not hash(): str hashes are salted per process, and every publisher must agree.
    return zlib.crc32(key.encode("utf-8")) % partitions


def assign(members: Iterable[str], partitions: Sequence[TopicPartition]) -> dict[str, set[TopicPartition]]:
    """Round-robin over sorted members and sorted partitions: every member computes the same split."""
    ordered = sorted(members)
    owned: dict[str, set[TopicPartition]] = {m: set() for m in ordered}
    for i, tp in enumerate(sorted(partitions)):
        owned[ordered[i % len(ordered)]].add(tp)
    return owned


class SqlBus:
    """EventBus on a log table. Offsets are global record ids; groups store the last id processed."""

    def __init__(
        self,
        engine: Engine,
        partitions: int = 6,
        *,
        session_timeout: float = 10.0,
        poll_interval: float = 0.05,
    ):
        self.engine = engine
        self.partitions = partitions
        self.session_timeout = session_timeout
        self.poll_interval = poll_interval
        self._topic_partitions: dict[str, int] = {}
        self._round_robin = itertools.count()

    def ensure_topics(self, topics: Sequence[str]) -> None:
        for topic in topics:
            self.partitions_of(topic)

    def partitions_of(self, topic: str) -> int:
        """The topic's partition count; the first caller creates it (the stored count wins)."""
        if topic not in self._topic_partitions:
            table = BusTopic.__table__
            with self.engine.begin() as conn:
                stmt = _insert(conn, table).values(name=topic, partitions=self.partitions)
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
                count = conn.execute(sa.select(table.c.partitions).where(table.c.name == topic)).scalar_one()
            self._topic_partitions[topic] = count
        return self._topic_partitions[topic]

    def publish(
        self, topic: str, value: bytes, key: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._append(topic, [(key, value, headers or {})])

    def publish_many(self, topic: str, items: Iterable[tuple[str | None, bytes]]) -> int:
        return self._append(topic, [(key, value, {}) for key, value in items])

    def _append(self, topic: str, items: list[tuple[str | None, bytes, dict[str, str]]]) -> int:
        if not items:
            return 0
        count = self.partitions_of(topic)
        now = utcnow()
        rows = [
            {
                "topic": topic,
                "partition": self._partition(key, count),
                "key": key,
                "value": bytes(value),
                "headers": dict(headers),
                "timestamp": now,
            }
            for key, value, headers in items
        ]
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Ids come from a sequence, so two publishers could commit 11 before 10 and a reader
                # at 11 would never see 10. One publisher per topic at a time keeps commit order = id
                # order. SQLite needs nothing: it has a single writer.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_id(topic))))
            conn.execute(sa.insert(BusRecord.__table__), rows)
        return len(rows)

    def _partition(self, key: str | None, count: int) -> int:
        if key is None:
            return next(self._round_robin) % count
        return partition_for(key, count)

    def consumer(self, group: str, topics: Sequence[str], *, member_id: str | None = None) -> "SqlConsumer":
        return SqlConsumer(self, group, list(topics), member_id or new_id())

    def dead_letter(self, record: Record, reason: str) -> None:
        self.publish(dlq_topic(record.topic), record.value, key=record.key, headers=dlq_headers(record, reason))

    def close(self) -> None:
        """Nothing to release: the engine belongs to the caller."""


class SqlConsumer:
    """A group member. Re-reads membership on every poll; positions start at the committed offset."""

    def __init__(self, bus: SqlBus, group: str, topics: list[str], member_id: str):
        self._bus = bus
        self._engine = bus.engine
        self.group = group
        self.member_id = member_id
        self._all = [(t, p) for t in topics for p in range(bus.partitions_of(t))]
        self._positions: dict[TopicPartition, int] = {}
        self._last_beat = -math.inf
        self._closed = False
        self._heartbeat()

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise RuntimeError("consumer is closed")
        deadline = time.monotonic() + timeout
        while True:
            self._rebalance()
            records = self._fetch(max_records)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            time.sleep(min(self._bus.poll_interval, remaining))

    def commit(self) -> None:
        if not self._positions:
            return
        table = BusOffset.__table__
        with self._engine.begin() as conn:
            for (topic, partition), position in sorted(self._positions.items()):
                stmt = _insert(conn, table).values(
                    group_id=self.group, topic=topic, partition=partition, position=position
                )
                # Never move an offset back: a member that lost the partition may commit late.
                greatest = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["group_id", "topic", "partition"],
                        set_={"position": greatest(table.c.position, stmt.excluded.position)},
                    )
                )

    def close(self) -> None:
        """Leave the group at once so the others take over; uncommitted records are redelivered."""
        if self._closed:
            return
        self._closed = True
        table = BusMember.__table__
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(table).where(table.c.group_id == self.group, table.c.member_id == self.member_id)
            )
        self._positions.clear()

    def _heartbeat(self) -> None:
        now_mono = time.monotonic()
        if now_mono - self._last_beat < self._bus.session_timeout / 3:
            return
        if now_mono - self._last_beat > self._bus.session_timeout:
            # We were (or may have been) dead to the group: someone else may have moved on.
            self._positions.clear()
        table = BusMember.__table__
        now = utcnow()
        with self._engine.begin() as conn:
            stmt = _insert(conn, table).values(group_id=self.group, member_id=self.member_id, heartbeat=now)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["group_id", "member_id"], set_={"heartbeat": stmt.excluded.heartbeat}
                )
            )
        self._last_beat = now_mono

    def _rebalance(self) -> None:
        self._heartbeat()
        table = BusMember.__table__
        alive_since = utcnow() - timedelta(seconds=self._bus.session_timeout)
        with self._engine.connect() as conn:
            members = conn.execute(
                sa.select(table.c.member_id).where(table.c.group_id == self.group, table.c.heartbeat >= alive_since)
            ).scalars().all()
        mine = assign(set(members) | {self.member_id}, self._all)[self.member_id]
        for tp in set(self._positions) - mine:
            del self._positions[tp]
        gained = mine - set(self._positions)
        if gained:
            self._positions.update(self._committed(gained))

    def _committed(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        table = BusOffset.__table__
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.topic, table.c.partition, table.c.position).where(
                    table.c.group_id == self.group, table.c.topic.in_({t for t, _ in partitions})
                )
            ).all()
        stored = {(t, p): pos for t, p, pos in rows}
        return {tp: stored.get(tp, 0) for tp in partitions}

    def _fetch(self, max_records: int) -> list[Record]:
        if not self._positions:
            return []
        table = BusRecord.__table__
        unread = sa.or_(
            *(
                sa.and_(table.c.topic == t, table.c.partition == p, table.c.id > pos)
                for (t, p), pos in self._positions.items()
            )
        )
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(unread).order_by(table.c.id).limit(max_records)).all()
        records = [
            Record(
                topic=r.topic,
                partition=r.partition,
                offset=r.id,
                key=r.key,
                value=r.value,
                timestamp=r.timestamp,
                headers=dict(r.headers),
            )
            for r in rows
        ]
        for rec in records:
            self._positions[(rec.topic, rec.partition)] = rec.offset
        return records


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def _lock_id(topic: str) -> int:
    # pg_advisory_xact_lock takes a signed 64-bit key.
    return int.from_bytes(hashlib.blake2b(topic.encode("utf-8"), digest_size=8).digest(), "big", signed=True)
