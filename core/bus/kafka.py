"""Event bus on Apache Kafka (confluent-kafka, i.e. librdkafka: checksums, compression and record
decoding run in C, off the interpreter). Topic names carry a prefix so deployments and test runs
sharing one broker stay apart; records handed out use the logical name without it.

Options passed in ``producer_options``/``consumer_options`` are librdkafka's own (dotted) names,
e.g. ``{"linger.ms": 5, "message.max.bytes": 8 << 20}``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tierwatch.core.bus import Record, dlq_headers, dlq_topic

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30
METADATA_TIMEOUT_S = 30

# Commit errors that mean the group moved our partitions elsewhere: their new owner re-reads from
# the last committed offset, so the records come again later, never get lost (at-least-once).
_REBALANCED = {
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError._ASSIGNMENT_LOST,
    KafkaError._STATE,
}


def _librdkafka_logger(name: str) -> logging.Logger:
    # librdkafka logs through this logger (from the poll/flush caller) instead of to stderr.
    return logging.getLogger(f"{__name__}.{name}")


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        topic_prefix: str = "tierwatch.",
        partitions: int = 6,
        *,
        replication_factor: int = 1,
        consumer_options: dict[str, Any] | None = None,
        producer_options: dict[str, Any] | None = None,
        send_timeout: float = SEND_TIMEOUT_S,
    ):
        self.bootstrap = bootstrap
        self.prefix = topic_prefix
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.consumer_options = dict(consumer_options or {})
        self.producer_options = dict(producer_options or {})
        # How long publish/publish_many wait for acknowledgements. What is not acknowledged by
        # then stays queued in the producer and may still be delivered (message.timeout.ms):
        # callers retry with the same report ids, which the worker stores once.
        self.send_timeout = send_timeout
        self._producer: Producer | None = None
        self._admin: AdminClient | None = None
        self._known: set[str] = set()
        self._lock = threading.Lock()  # publishers may share one bus across threads

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(
                {"bootstrap.servers": self.bootstrap, "client.id": "tierwatch-admin"},
                logger=_librdkafka_logger("admin"),
            )
        return self._admin

    def ensure_topics(self, topics: Sequence[str]) -> None:
        if all(t in self._known for t in topics):
            return
        with self._lock:
            self._create_topics([t for t in topics if t not in self._known])

    def _create_topics(self, missing: list[str]) -> None:
        if not missing:
            return
        new = [NewTopic(self.prefix + t, self.partitions, self.replication_factor) for t in missing]
        futures = self.admin.create_topics(new, operation_timeout=METADATA_TIMEOUT_S, request_timeout=METADATA_TIMEOUT_S)
        for future in futures.values():
            try:
                future.result()
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        self._known.update(missing)

    def publish(
        self, topic: str, value: bytes, key: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        done = threading.Event()
        outcome: list[KafkaError | None] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            outcome.append(err)
            done.set()

        self.ensure_topics([topic])
        _produce(self.producer, self.prefix + topic, value, key, headers or None, delivered)
        # Another thread's poll/flush may serve our delivery report, so wait on the event too.
        deadline = time.monotonic() + self.send_timeout
        while not done.is_set():
            if time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "no delivery report"))
            self.producer.poll(0.05)
        if outcome[0] is not None:
            raise KafkaException(outcome[0])

    def publish_many(self, topic: str, items: Iterable[tuple[str | None, bytes]]) -> int:
        errors: list[KafkaError] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err)

        self.ensure_topics([topic])
        producer, name = self.producer, self.prefix + topic
        count = 0
        for key, value in items:
            _produce(producer, name, value, key, None, delivered)
            count += 1
        if count and producer.flush(self.send_timeout) > 0:
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT, "records still unacknowledged"))
        if errors:
            raise KafkaException(errors[0])
        return count

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            with self._lock:
                if self._producer is None:
                    self._producer = self._new_producer()
        return self._producer

    def _new_producer(self) -> Producer:
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "acks": "all",
            "enable.idempotence": True,  # retries neither duplicate nor reorder records
            "linger.ms": 5,
            # The Java and kafka-python clients' key hash: a key keeps its partition whichever
            # client (ours, a partner's producer, the console tools) wrote it.
            "partitioner": "murmur2_random",
            "compression.type": "lz4",  # see bench/README.md (bench_bus.py)
        }
        config.update(self.producer_options)
        return Producer(config, logger=_librdkafka_logger("producer"))

    def consumer(self, group: str, topics: Sequence[str], *, member_id: str | None = None) -> KafkaBusConsumer:
        self.ensure_topics(topics)
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            **self.consumer_options,
        }
        if member_id:
            config["client.id"] = member_id
        raw = Consumer(config, logger=_librdkafka_logger("consumer"))
        names = [self.prefix + t for t in topics]
        try:
            _wait_for_partitions(raw, names)
        except BaseException:
            raw.close()
            raise
        raw.subscribe(names)
        return KafkaBusConsumer(raw, self.prefix)

    def dead_letter(self, record: Record, reason: str) -> None:
        self.publish(dlq_topic(record.topic), record.value, key=record.key, headers=dlq_headers(record, reason))

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(self.send_timeout)  # deliver what is still queued, within a bound
            self._producer = None
        self._admin = None


def _produce(
    producer: Producer, topic: str, value: bytes, key: str | None, headers: dict[str, Any] | None, on_delivery: Any
) -> None:
    while True:
        try:
            producer.produce(topic, value, key, on_delivery=on_delivery, headers=headers)
            return
        except BufferError:  # local queue full: let deliveries drain it, then retry
            producer.poll(0.1)


def _wait_for_partitions(raw: Consumer, names: list[str]) -> None:
    # kafka-python needed this (a group joined before the new topic's metadata got no partitions
    # for minutes); librdkafka picks up a topic that appears after subscribe within ~1 s
    # (measured). Kept as a cheap guard: one round trip, and consumer() fails instead of
    # polling a topic that never came.
    deadline = time.monotonic() + METADATA_TIMEOUT_S
    for name in names:
        while True:
            topic = raw.list_topics(name, timeout=METADATA_TIMEOUT_S).topics.get(name)
            if topic is not None and topic.error is None and topic.partitions:
                break
            if time.monotonic() > deadline:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"no partition metadata for {name}"))
            time.sleep(0.1)


class KafkaBusConsumer:
    def __init__(self, consumer: Consumer, prefix: str):
        self._consumer = consumer
        self._prefix = prefix
        self._closed = False

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        # consume(n, timeout) waits for n records or the timeout: take what is already fetched,
        # block only while there is nothing, then top up with what arrived meanwhile.
        messages = self._consumer.consume(max_records, 0)
        if not messages:
            messages = self._consumer.consume(1, timeout)
            if messages and max_records > 1:
                messages += self._consumer.consume(max_records - 1, 0)
        return self._records(messages)

    def commit(self) -> None:
        try:
            offsets = self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            code = exc.args[0].code()
            if code == KafkaError._NO_OFFSET:  # nothing consumed since the last commit
                return
            if code not in _REBALANCED:
                raise
            log.warning("commit failed after a rebalance, records will be redelivered: %s", exc)
            return
        failed = [tp for tp in offsets or () if tp.error is not None]
        if failed:
            log.warning("commit failed for %s, their records will be redelivered", failed)

    def assignment(self) -> set[tuple[str, int]]:
        return {(self._logical(tp.topic), tp.partition) for tp in self._consumer.assignment()}

    def close(self) -> None:
        if not self._closed:  # confluent-kafka raises on a second close
            self._closed = True
            self._consumer.close()  # leaves the group; commits nothing (auto commit is off)

    def _logical(self, topic: str) -> str:
        return topic.removeprefix(self._prefix)

    @staticmethod
    def _failed(message: Message) -> bool:
        """Consumer errors come as messages; the client recovers from all but fatal ones itself."""
        err = message.error()
        if err is None:
            return False
        if err.fatal():
            raise KafkaException(err)
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("Kafka consumer: %s", err)
        return True

    def _records(self, messages: list[Any]) -> list[Record]:
        # The worker's per-record cost: one plain loop, positional fields, no per-record helpers.
        # (Any: the stubs make every Message accessor optional; a delivered record has them all.)
        records = []
        logical = self._logical
        fromtimestamp = datetime.fromtimestamp
        for m in messages:
            if m.error() is not None and self._failed(m):
                continue
            key, headers = m.key(), m.headers()
            records.append(Record(
                logical(m.topic()),
                m.partition(),
                m.offset(),
                None if key is None else key.decode(),
                m.value(),
                fromtimestamp(m.timestamp()[1] / 1000, UTC),
                {k: (v or b"").decode() for k, v in headers} if headers else {},
            ))
        return records
