"""The intake pipeline on the real services: Kafka -> worker processes -> PostgreSQL + Elasticsearch.

Workers run as real subprocesses (`tierwatch worker`) configured by environment
variables; each test has its own topic prefix, index prefix and report ids, the module its own
PostgreSQL database. They are killed with SIGKILL, run two to a group, and see Elasticsearch
stopped under them; afterwards every report must be stored and indexed exactly once.
"""

from __future__ import annotations

import json
import random
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwatch.core.bus import dlq_topic
from tierwatch.core.bus.kafka import KafkaBus
from tierwatch.core.search.elastic import ElasticIndex
from tierwatch.monitoring.loadgen import synthetic_reports
from tierwatch.core.settings import IntakeSettings
from tierwatch.monitoring.topics import ensure_topics
from tests.pg import fresh_database
from tests.stream import Stream

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch, pytest.mark.postgres, pytest.mark.slow]

SCAM = "reports.scam"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url, "tw_pipeline") as url:
        yield url


class Pipeline(Stream):
    """One test's topics, index and worker processes."""

    def __init__(self, database: str, kafka: str, es_url: str, tmp: Path):
        tag = secrets.token_hex(4)
        self.topic_prefix, self.index_prefix = f"t{tag}.", f"t{tag}-"
        env = {
            "TIERWATCH_BUS": "kafka",
            "TIERWATCH_SEARCH": "elasticsearch",
            "TIERWATCH_KAFKA_BOOTSTRAP": kafka,
            "TIERWATCH_ELASTICSEARCH_URL": es_url,
            "TIERWATCH_KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "TIERWATCH_KAFKA_PARTITIONS": "6",
            "TIERWATCH_INDEX_PREFIX": self.index_prefix,
            "TIERWATCH_INTAKE_BATCH_SIZE": str(IntakeSettings().batch_size),
            "TIERWATCH_INTAKE_MAX_BACKOFF": "2",
        }
        bus = KafkaBus(kafka, topic_prefix=self.topic_prefix, partitions=6,
                       producer_options={"message.max.bytes": 6 * MiB, "linger.ms": 5})
        super().__init__(tmp, env, bus, ElasticIndex(es_url, prefix=self.index_prefix), database, tag=tag)

    def stats(self, n: int) -> dict:
        return json.loads(self.stats_file(n).read_text())

    def publish(self, items: list[tuple[str | None, bytes]], rate: float | None = None) -> None:  # type: ignore[override]
        ensure_topics(self.bus, IntakeSettings())  # as a deployment does: sizes and retention set
        started = time.monotonic()
        for i in range(0, len(items), 500):
            self.bus.publish_many(SCAM, items[i : i + 500])
            if rate:
                time.sleep(max(0.0, started + (i + 500) / rate - time.monotonic()))


@pytest.fixture
def pipeline(database, kafka_bootstrap, elasticsearch_url, tmp_path) -> Iterator[Pipeline]:
    p = Pipeline(database, kafka_bootstrap, elasticsearch_url, tmp_path)
    yield p
    p.close()


def reports(p: Pipeline, n: int, seed: int) -> list[tuple[str | None, bytes]]:
    out = []
    for r in synthetic_reports(n, seed=seed, prefix=p.tag):
        out.append((r["report_id"], json.dumps(r, ensure_ascii=False).encode()))
    return out


def test_sigkill_twice_mid_replay_loses_and_doubles_nothing(pipeline):
    n = 20_000
    rng = random.Random()
    worker = pipeline.start_worker()
    producer = pipeline.publish_in_background(reports(pipeline, n, seed=1))
    for low, high in ((0.10, 0.35), (0.45, 0.75)):
        kill_at = int(n * rng.uniform(low, high))
        pipeline.wait_for(f"{kill_at} stored", lambda: pipeline.stored()[0] >= kill_at, timeout=240)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = pipeline.start_worker()
    producer.join()
    pipeline.wait_complete(n)
    time.sleep(2)  # anything still in flight would show up as an extra row or document now
    assert pipeline.stored() == (n, n)
    assert pipeline.indexed() == n
    pipeline.stop_workers()
    assert pipeline.stats(2)["records"] > 0  # the third process finished the job


def test_elasticsearch_stopped_for_30s_mid_replay_loses_nothing(pipeline):
    from tierwatch.core import services

    n = 6_000
    pipeline.start_worker()
    producer = pipeline.publish_in_background(reports(pipeline, n, seed=2), rate=300)
    pipeline.wait_for("some reports indexed", lambda: pipeline.indexed() >= 300, timeout=120)
    try:
        services.down(["elasticsearch"], echo=lambda *_: None)
        stopped = time.monotonic()
        time.sleep(10)
        stored_while_down = pipeline.stored()[0]
        time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
        # The database kept up (at most the batch being retried), but nothing past it was taken
        # out of Kafka as done: the stored count could only move by that one batch.
        assert pipeline.stored()[0] - stored_while_down <= 500
    finally:
        services.up(["elasticsearch"], echo=lambda *_: None)
    producer.join()
    pipeline.wait_complete(n, timeout=300)
    assert pipeline.stored() == (n, n)
    assert pipeline.indexed() == n
    log = pipeline.logs[0].read_text()
    assert "search index unavailable" in log


def test_two_workers_in_one_group_share_the_work_once(pipeline):
    n = 20_000
    pipeline.start_worker()
    pipeline.start_worker()
    time.sleep(3)  # both join before the flood, so the partitions are split between them
    pipeline.publish(reports(pipeline, n, seed=3))
    pipeline.wait_complete(n)
    pipeline.stop_workers()
    assert pipeline.stored() == (n, n)
    assert pipeline.indexed() == n
    first, second = pipeline.stats(0), pipeline.stats(1)
    assert first["stored"] > 0 and second["stored"] > 0, (first, second)
    assert first["stored"] + second["stored"] == n  # each report inserted by exactly one process


def malformed(p: Pipeline, valid: dict) -> list[tuple[str, bytes]]:
    """One message of each kind of damage, repeated to 1% of the stream."""
    kinds = [
        ("bad JSON", lambda i: b'{"report_id": "' + f"{p.tag}-x{i}".encode() + b'", "description": '),
        ("wrong type", lambda i: json.dumps({**valid, "report_id": f"{p.tag}-w{i:07d}", "amount_lost": "5000"}).encode()),
        ("missing field", lambda i: json.dumps({k: v for k, v in valid.items() if k != "channel"}
                                               | {"report_id": f"{p.tag}-m{i:07d}"}).encode()),
        ("invalid UTF-8", lambda i: json.dumps({**valid, "report_id": f"{p.tag}-u{i:07d}", "description": "@@"})
         .encode().replace(b"@@", b"\xff\xfe")),
    ]
    out = []
    for i in range(49):
        name, make = kinds[i % len(kinds)]
        out.append((name, make(i)))
    big = json.dumps({**valid, "report_id": f"{p.tag}-big00001", "description": "诈" * (5 * MiB // 3)},
                     ensure_ascii=False).encode()
    out.append(("too large", big))
    return out


def test_one_percent_malformed_go_to_the_dead_letter_topic_with_reasons(pipeline):
    n = 4_950
    good = reports(pipeline, n, seed=4)
    valid = json.loads(good[0][1])
    bad = malformed(pipeline, valid)
    assert len(bad) == 50 and len(bad[-1][1]) > 5 * MiB
    stream: list[tuple[str | None, bytes]] = list(good)
    for i, (_, raw) in enumerate(bad):
        stream.insert((i + 1) * 99, (None, raw))
    pipeline.start_worker()
    pipeline.publish(stream)
    pipeline.wait_complete(n)
    assert pipeline.stored() == (n, n)
    consumer = pipeline.bus.consumer(f"dlq-reader-{pipeline.tag}", [dlq_topic(SCAM)])
    letters: dict[tuple[int, int], tuple[bytes, str]] = {}
    deadline = time.monotonic() + 60
    while len(letters) < len(bad) and time.monotonic() < deadline:
        for record in consumer.poll(500, 1.0):
            key = (int(record.headers["source_partition"]), int(record.headers["source_offset"]))
            letters[key] = (record.value, record.headers["reason"])
    consumer.close()
    assert len(letters) == len(bad)
    originals = {raw for _, raw in bad}
    assert {value for value, _ in letters.values()} == originals  # the original bytes, untouched
    reasons = {value: reason for value, reason in letters.values()}
    expected = {"bad JSON": "bad JSON", "wrong type": "amount_lost", "missing field": "channel: Field required",
                "invalid UTF-8": "not UTF-8", "too large": "too large"}
    for name, raw in bad:
        assert expected[name] in reasons[raw], (name, reasons[raw])
    pipeline.stop_workers()
    assert pipeline.stats(0)["dead_lettered"] == len(bad)
