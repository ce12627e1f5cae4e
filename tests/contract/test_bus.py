"""One contract for the event bus, run on SqlBus (SQLite, PostgreSQL) and KafkaBus."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import pytest

from tierwatch.core.bus import Consumer, EventBus, Record, dlq_topic
from tests.contract.bus_fixtures import PARTITIONS, unique

OpenConsumer = Callable[..., Consumer]


def drain(consumers: Sequence[Consumer], want: int, *, commit: bool = True, timeout: float = 30.0) -> list[Record]:
    """Poll the consumers in turn until `want` records arrived (or time runs out)."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for consumer in consumers:
            records = consumer.poll(timeout=0.2)
            got.extend(records)
            if records and commit:
                consumer.commit()
    return got


def values(records: Sequence[Record]) -> list[bytes]:
    return [r.value for r in records]


def publish_numbered(bus: EventBus, topic: str, stem: str, count: int) -> list[bytes]:
    """Publish b"<stem>0".. under keys k0.. and return the values sent."""
    sent = [f"{stem}{i}".encode() for i in range(count)]
    assert bus.publish_many(topic, [(f"k{i}", v) for i, v in enumerate(sent)]) == count
    return sent


def test_round_trip_keeps_key_headers_and_bytes(bus: EventBus, bus_topic: str, open_consumer: OpenConsumer) -> None:
    payload = b"\x00\xff\xfe not utf-8 \x80" + "换脸诈骗".encode("utf-8")
    bus.publish(bus_topic, payload, key="app-42", headers={"type": "scam_report", "来源": "公众"})

    [record] = drain([open_consumer(unique("g"), [bus_topic])], 1)

    assert record.topic == bus_topic
    assert record.value == payload
    assert record.key == "app-42"
    assert record.headers == {"type": "scam_report", "来源": "公众"}
    assert 0 <= record.partition < PARTITIONS
    assert record.timestamp.tzinfo is not None
    assert abs(time.time() - record.timestamp.timestamp()) < 60


def test_same_key_is_consumed_in_publish_order(bus: EventBus, bus_topic: str, open_consumer: OpenConsumer) -> None:
    keys = [f"phone-{i}" for i in range(25)]
    items = [(key, f"{key}:{seq}".encode()) for seq in range(8) for key in keys]
    bus.publish_many(bus_topic, items)

    got = drain([open_consumer(unique("g"), [bus_topic])], len(items))

    seen: dict[str, list[int]] = defaultdict(list)
    partition_of: dict[str, set[int]] = defaultdict(set)
    for r in got:
        assert r.key is not None
        seen[r.key].append(int(r.value.split(b":")[1]))
        partition_of[r.key].add(r.partition)
    assert {k: v for k, v in seen.items()} == {key: list(range(8)) for key in keys}
    assert all(len(p) == 1 for p in partition_of.values())
    assert len({p for ps in partition_of.values() for p in ps}) > 1  # keys really spread out


def test_every_group_sees_every_record(bus: EventBus, bus_topic: str, open_consumer: OpenConsumer) -> None:
    sent = publish_numbered(bus, bus_topic, "r", 30)

    for group in (unique("indexer"), unique("alerts")):
        assert sorted(values(drain([open_consumer(group, [bus_topic])], len(sent)))) == sorted(sent)


def test_members_of_a_group_split_partitions_and_see_each_record_once(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    group = unique("workers")
    a = open_consumer(group, [bus_topic], member_id="worker-a")
    b = open_consumer(group, [bus_topic], member_id="worker-b")
    everything = {(bus_topic, p) for p in range(PARTITIONS)}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert a.poll(timeout=0.2) == [] and b.poll(timeout=0.2) == []
        if a.assignment() and b.assignment() and not a.assignment() & b.assignment():
            if a.assignment() | b.assignment() == everything:
                break
    assert a.assignment() and b.assignment(), "the group never settled on sharing the partitions"
    assert not a.assignment() & b.assignment()
    assert a.assignment() | b.assignment() == everything

    sent = publish_numbered(bus, bus_topic, "r", 60)
    got_a, got_b = [], []
    deadline = time.monotonic() + 30
    while len(got_a) + len(got_b) < len(sent) and time.monotonic() < deadline:
        for consumer, got in ((a, got_a), (b, got_b)):
            records = consumer.poll(timeout=0.2)
            got.extend(records)
            consumer.commit()

    assert sorted(values(got_a + got_b)) == sorted(sent)  # all of them, none twice
    assert got_a and got_b
    assert {(r.topic, r.partition) for r in got_a} <= a.assignment()
    assert a.poll(timeout=0.3) == [] and b.poll(timeout=0.3) == []


def test_new_member_resumes_after_the_committed_offset(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    group = unique("indexer")
    publish_numbered(bus, bus_topic, "old", 10)
    first = open_consumer(group, [bus_topic])
    assert len(drain([first], 10)) == 10  # drain commits after each poll
    first.close()

    later = publish_numbered(bus, bus_topic, "new", 5)
    second = open_consumer(group, [bus_topic])
    assert sorted(values(drain([second], 5))) == sorted(later)
    assert second.poll(timeout=0.5) == []


def test_uncommitted_records_are_redelivered_after_close(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    group = unique("indexer")
    publish_numbered(bus, bus_topic, "done", 6)
    first = open_consumer(group, [bus_topic])
    assert len(drain([first], 6)) == 6  # committed

    pending = publish_numbered(bus, bus_topic, "pending", 8)
    read_once = drain([first], 8, commit=False)
    assert sorted(values(read_once)) == sorted(pending)
    first.close()  # "crashed" before committing

    again = drain([open_consumer(group, [bus_topic])], 8)
    assert sorted(values(again)) == sorted(pending)
    assert sorted((r.partition, r.offset) for r in again) == sorted((r.partition, r.offset) for r in read_once)


@pytest.mark.slow
def test_abandoned_member_loses_its_partitions_and_its_late_commit_does_not_raise(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    # A worker stuck in one batch (a long outage) past the group's timeouts, no commit, no polls:
    # to the group it went silent, so its partitions and records go to another member. Its late
    # commit must not raise (the worker would retry it forever), and its next polls must work.
    group = unique("indexer")
    sent = publish_numbered(bus, bus_topic, "r", 12)
    slow = open_consumer(group, [bus_topic], member_id="slow")
    assert len(drain([slow], 12, commit=False)) == 12

    rescuer = open_consumer(group, [bus_topic], member_id="rescuer")
    assert sorted(values(drain([rescuer], 12, timeout=45))) == sorted(sent)
    slow.commit()

    later = publish_numbered(bus, bus_topic, "later", 6)
    got = drain([slow, rescuer], 6, timeout=45)
    assert sorted(values(got)) == sorted(later)


def test_dead_letter_keeps_original_bytes_and_says_why(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    payload = b'{"amount": "\xff"}'
    bus.publish(bus_topic, payload, key="report-7", headers={"type": "scam_report"})
    [record] = drain([open_consumer(unique("intake"), [bus_topic])], 1)

    bus.dead_letter(record, "invalid JSON: 金额字段无法解析")

    [dead] = drain([open_consumer(unique("dlq-reader"), [dlq_topic(bus_topic)])], 1)
    assert dead.topic == bus_topic + ".dlq"
    assert dead.value == payload
    assert dead.key == "report-7"
    assert dead.headers["reason"] == "invalid JSON: 金额字段无法解析"
    assert dead.headers["source_topic"] == bus_topic
    assert dead.headers["source_partition"] == str(record.partition)
    assert dead.headers["source_offset"] == str(record.offset)
    assert dead.headers["type"] == "scam_report"


def test_publish_many_returns_the_count(bus: EventBus, bus_topic: str, open_consumer: OpenConsumer) -> None:
    assert bus.publish_many(bus_topic, ((None, f"v{i}".encode()) for i in range(25))) == 25
    assert bus.publish_many(bus_topic, []) == 0
    got = drain([open_consumer(unique("g"), [bus_topic])], 25)
    assert sorted(values(got)) == sorted(f"v{i}".encode() for i in range(25))
    assert all(r.key is None for r in got)


def test_empty_poll_returns_nothing_within_the_timeout(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    consumer = open_consumer(unique("g"), [bus_topic])
    started = time.monotonic()
    assert consumer.poll(timeout=0.5) == []
    assert time.monotonic() - started < 2.0
    assert consumer.poll(timeout=0.5) == []


def test_poll_returns_a_partial_batch_without_waiting_out_the_timeout(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    # Latency: a worker asking for 500 records must get the 3 that are there now, not wait for
    # 497 more until its timeout (as Kafka clients' "consume n records" calls do).
    consumer = open_consumer(unique("g"), [bus_topic])
    publish_numbered(bus, bus_topic, "warm-up", 1)
    assert len(drain([consumer], 1)) == 1  # joined the group and fetching
    sent = publish_numbered(bus, bus_topic, "r", 3)
    time.sleep(1.0)  # let them reach the consumer's side

    got: list[Record] = []
    deadline = time.monotonic() + 30
    while len(got) < len(sent) and time.monotonic() < deadline:
        started = time.monotonic()
        records = consumer.poll(500, timeout=5.0)
        if records:
            assert time.monotonic() - started < 2.0
        got.extend(records)
    assert sorted(values(got)) == sorted(sent)


def test_reader_misses_nothing_while_publishers_run_concurrently(
    bus: EventBus, bus_topic: str, open_consumer: OpenConsumer
) -> None:
    # On PostgreSQL this is what the per-topic advisory lock is for: without it a reader can move
    # past an id whose transaction commits a moment later, and never see that record. One key puts
    # every record in one partition, where such a skip would happen.
    consumer = open_consumer(unique("g"), [bus_topic])
    consumer.poll(timeout=0.2)
    per_thread, threads = 50, 6
    errors: list[BaseException] = []

    def publish(n: int) -> None:
        try:
            for i in range(per_thread):
                bus.publish(bus_topic, f"{n}:{i}".encode(), key="same-phone")
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    workers = [threading.Thread(target=publish, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    got = drain([consumer], per_thread * threads, timeout=60)
    for w in workers:
        w.join()
    assert errors == []
    by_thread: dict[int, list[int]] = defaultdict(list)
    for r in got:
        n, i = r.value.split(b":")
        by_thread[int(n)].append(int(i))
    assert by_thread == {n: list(range(per_thread)) for n in range(threads)}  # none lost, each in order
