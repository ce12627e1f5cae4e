"""The fault suite's own Kafka broker and PostgreSQL cluster, and its figures.

Faults are injected into servers this suite starts itself (other ports, temporary data
directories): the shared Kafka on 9092 and PostgreSQL `15 main` on 5432 serve other test runs
and are never stopped here. Elasticsearch is the shared node, used under a unique index prefix.
Each scenario records its figures; the session ends with them in a "fault suite" section.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _unavailable

FIGURES: list[dict[str, object]] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnKafka:
    """A broker of this suite's own; ``stop``/``start`` are the faults."""

    def __init__(self, state_dir: Path):
        from tierwatch.core.services.kafka import KafkaService
        from tierwatch.core.services.layout import Layout

        shared = Layout.from_env()  # the jar cache is shared, the state is not
        self.service = KafkaService(Layout(shared.source_dir, shared.cache_dir, state_dir),
                                    broker_port=free_port(), controller_port=free_port())
        self.bootstrap = self.service.endpoint()

    def start(self) -> None:
        if self.service.running_pid() is None:
            self.service.launch()
        self.service.wait_ready(self.service.ready_timeout)

    def stop(self) -> None:
        self.service.stop()


def _scratch_dir(prefix: str) -> Path:
    # Not under pytest's tmp_path: that is mode 700, and the postgres user must reach its data.
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="session")
def own_kafka() -> Iterator[OwnKafka]:
    from tierwatch.core.services import ServiceError

    state = _scratch_dir("tierwatch-faults-kafka-")
    kafka = None
    try:
        kafka = OwnKafka(state)
        kafka.service.prepare(lambda _line: None)
        kafka.start()
    except ServiceError as exc:
        if kafka is not None:
            kafka.stop()  # launched but never ready: stop it by its pid file
        shutil.rmtree(state, ignore_errors=True)
        _unavailable(f"cannot start the fault suite's own Kafka broker: {exc}")
    assert kafka is not None  # _unavailable() skips or fails
    yield kafka
    kafka.stop()
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[object]:
    from tierwatch.core.services import ServiceError
    from tierwatch.core.services.postgres import ScratchCluster

    base = _scratch_dir("tierwatch-faults-pg-")
    cluster = None
    try:
        cluster = ScratchCluster(base, free_port())
        cluster.init()
    except ServiceError as exc:
        if cluster is not None and cluster.running():
            cluster.stop("immediate")  # started, then provisioning failed: leave nothing behind
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"cannot start the fault suite's own PostgreSQL cluster: {exc}")
    assert cluster is not None  # _unavailable() skips or fails
    yield cluster
    if cluster.running():
        cluster.stop("fast")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def record_figures(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    def record(**figures: object) -> None:
        FIGURES.append({"scenario": request.node.name, **figures})
        print(json.dumps(FIGURES[-1]))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not FIGURES:
        return
    terminalreporter.section("fault suite figures")
    for figures in FIGURES:
        terminalreporter.write_line(json.dumps(figures, ensure_ascii=False))
    target = os.environ.get("TIERWATCH_FAULTS_FIGURES")
    if target:
        Path(target).write_text(json.dumps(FIGURES, indent=1) + "\n")


@pytest.fixture
def pg_database(own_postgres) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from tests.pg import fresh_database

    with fresh_database(own_postgres.url(), "faults") as url:
        yield url


@pytest.fixture
def kafka_stream(own_kafka: OwnKafka, pg_database: str, elasticsearch_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Workers on the suite's Kafka and PostgreSQL and the shared Elasticsearch."""
    from tierwatch.core.bus.kafka import KafkaBus
    from tierwatch.core.search.elastic import ElasticIndex
    from tests.stream import Stream

    tag = "f" + os.urandom(4).hex()
    env = {"TIERWATCH_BUS": "kafka", "TIERWATCH_SEARCH": "elasticsearch",
           "TIERWATCH_KAFKA_BOOTSTRAP": own_kafka.bootstrap, "TIERWATCH_ELASTICSEARCH_URL": elasticsearch_url,
           "TIERWATCH_KAFKA_TOPIC_PREFIX": f"{tag}.", "TIERWATCH_INDEX_PREFIX": f"{tag}-",
           "TIERWATCH_KAFKA_PARTITIONS": "6"}
    # The producer gives up on a chunk after 2 s and sends it again, as a client retrying would.
    bus = KafkaBus(own_kafka.bootstrap, topic_prefix=f"{tag}.", partitions=6, send_timeout=2)
    stream = Stream(tmp_path, env, bus, ElasticIndex(elasticsearch_url, prefix=f"{tag}-"), pg_database)
    yield stream
    stream.close()
    if own_kafka.service.running_pid() is None:
        own_kafka.start()  # a scenario that failed with the broker down leaves it up for the next
