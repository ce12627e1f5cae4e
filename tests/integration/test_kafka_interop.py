"""KafkaBus against a second, independent client: Kafka's own console producer and consumer (Java)."""

from __future__ import annotations

import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwatch.core.bus.kafka import KafkaBus
from tierwatch.core.services.layout import Layout
from tests.conftest import _unavailable
from tests.contract.bus_fixtures import KAFKA_CONSUMER_OPTIONS, unique

pytestmark = pytest.mark.kafka

CONSUMER_CLASSES = ("org.apache.kafka.tools.consumer.ConsoleConsumer", "kafka.tools.ConsoleConsumer")
PRODUCER_CLASSES = ("org.apache.kafka.tools.ConsoleProducer", "kafka.tools.ConsoleProducer")


def _kafka_lib() -> Path | None:
    """`lib/` of the finished Kafka build in the services' jar cache (see core.services.jvm)."""
    builds = [d for d in Layout.from_env().cache_dir.glob("kafka-*") if (d / ".complete").exists()]
    return builds[0] / "lib" if builds else None


def _find_class(lib: Path, candidates: tuple[str, ...]) -> str | None:
    wanted = {c.replace(".", "/") + ".class": c for c in candidates}
    found: set[str] = set()
    for jar in lib.glob("*.jar"):
        with zipfile.ZipFile(jar) as zf:
            found.update(wanted[n] for n in zf.namelist() if n in wanted)
    return next((c for c in candidates if c in found), None)


@pytest.fixture(scope="module")
def console_tools() -> tuple[str, str, str]:
    """(classpath, console consumer class, console producer class) from the Kafka jar cache."""
    lib = _kafka_lib()
    if shutil.which("java") is None or lib is None:
        _unavailable("java or the cached Kafka jars are missing; run `python -m core.services up kafka`")
    consumer, producer = _find_class(lib, CONSUMER_CLASSES), _find_class(lib, PRODUCER_CLASSES)
    if consumer is None or producer is None:
        _unavailable(f"no console consumer/producer class in the jars under {lib}")
    return f"{lib}/*", consumer, producer  # type: ignore[return-value]


@pytest.fixture
def kafka_bus(kafka_bootstrap: str) -> Iterator[KafkaBus]:
    bus = KafkaBus(kafka_bootstrap, topic_prefix=unique("tierwatch-interop") + ".", partitions=3,
                   consumer_options=KAFKA_CONSUMER_OPTIONS)
    yield bus
    bus.close()


def _java(classpath: str, main: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["java", "-Xmx256m", "-cp", classpath, main, *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )


def test_console_consumer_reads_what_kafkabus_published(
    kafka_bus: KafkaBus, kafka_bootstrap: str, console_tools: tuple[str, str, str]
) -> None:
    classpath, console_consumer, _ = console_tools
    sent = [(f"phone-{i % 2}", f"冒充客服诈骗 {i}") for i in range(6)]
    kafka_bus.publish_many("scam-reports", [(k, v.encode("utf-8")) for k, v in sent])
    kafka_bus.publish("scam-reports", "带头信息".encode("utf-8"), key="phone-9", headers={"source": "热线"})

    result = _java(
        classpath, console_consumer,
        "--bootstrap-server", kafka_bootstrap, "--topic", kafka_bus.prefix + "scam-reports",
        "--from-beginning", "--max-messages", "7", "--timeout-ms", "30000",
        "--property", "print.key=true", "--property", "key.separator=|",
        "--property", "print.headers=true", "--property", "headers.separator=;",
    )

    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if "|" in line]
    # print.headers puts the headers first: "<headers>|<key>|<value>", NO_HEADERS when there are none.
    parsed = [tuple(line.split("|", 2)) for line in lines]
    assert sorted((k, v) for _, k, v in parsed if k != "phone-9") == sorted(sent)
    assert ("source:热线", "phone-9", "带头信息") in parsed
    for key in ("phone-0", "phone-1"):  # one key, one partition: order kept for an outside reader too
        assert [v for _, k, v in parsed if k == key] == [v for k, v in sent if k == key]


def test_kafkabus_reads_what_the_console_producer_sent(
    kafka_bus: KafkaBus, kafka_bootstrap: str, console_tools: tuple[str, str, str]
) -> None:
    classpath, _, console_producer = console_tools
    kafka_bus.ensure_topics(["partner-feed"])
    lines = [f"acct-{i % 3}|AI换脸视频通话 第{i}条" for i in range(9)]

    result = _java(
        classpath, console_producer,
        "--bootstrap-server", kafka_bootstrap, "--topic", kafka_bus.prefix + "partner-feed",
        "--property", "parse.key=true", "--property", "key.separator=|",
        stdin="\n".join(lines) + "\n",
    )
    assert result.returncode == 0, result.stderr[-2000:]

    consumer = kafka_bus.consumer(unique("interop"), ["partner-feed"])
    got = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < len(lines) and time.monotonic() < deadline:
            got.extend(consumer.poll(timeout=0.5))
    finally:
        consumer.close()

    assert {r.topic for r in got} == {"partner-feed"}
    assert sorted(f"{r.key}|{r.value.decode('utf-8')}" for r in got) == sorted(lines)
    for key in ("acct-0", "acct-1", "acct-2"):
        assert [r.value.decode() for r in got if r.key == key] == [line.split("|")[1] for line in lines if line.startswith(key + "|")]
