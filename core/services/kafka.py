"""Apache Kafka 4.x in KRaft mode: one process that is both broker and controller."""

from __future__ import annotations

import base64
import logging
import socket
import struct
import subprocess
import uuid
from pathlib import Path

from tierwatch.core.services.jvm import Echo, JavaService, maven_build, pom_property
from tierwatch.core.services.layout import HOST, Layout
from tierwatch.core.services.process import ServiceError

BROKER_PORT = 9092
CONTROLLER_PORT = 9093

SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{controller_port}
listeners=PLAINTEXT://{host}:{broker_port},CONTROLLER://{host}:{controller_port}
advertised.listeners=PLAINTEXT://{host}:{broker_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
auto.create.topics.enable=true
# One node: internal topics cannot have more than one replica; a single partition each keeps the
# first consumer-group join fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
"""

# Without a configuration log4j 2 prints errors only; the broker's INFO lines go to stdout, which
# the manager appends to kafka.log.
LOG4J2_PROPERTIES = """\
status = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = warn
"""


class KafkaService(JavaService):
    """The development broker by default; a fault test runs its own with other ports and its
    state under another ``layout.state_dir`` (so it can be stopped without touching this one)."""

    name = "kafka"
    ready_timeout = 90.0

    def __init__(self, layout: Layout, *, broker_port: int = BROKER_PORT, controller_port: int = CONTROLLER_PORT) -> None:
        super().__init__(layout)
        self.ports = (broker_port, controller_port)
        self.project_dir = layout.source_dir / "kafka"
        self.version = pom_property(self.project_dir / "pom.xml", "kafka.version")
        self.data_dir = self.state_dir / "data"

    def prepare(self, echo: Echo) -> None:
        build = maven_build(
            "kafka", self.project_dir,
            ["dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory=${lib}"],
            self.layout, echo,
        )
        self.lib_dir = build / "lib"

    def configure(self, java: str, lib: Path) -> list[str]:
        properties = self.state_dir / "server.properties"
        properties.write_text(SERVER_PROPERTIES.format(
            host=HOST, broker_port=self.ports[0], controller_port=self.ports[1], data_dir=self.data_dir))
        log4j = self.state_dir / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        classpath = f"{lib}/*"
        if not (self.data_dir / "meta.properties").exists():
            self._format_storage(java, classpath, properties)
        return [
            java, "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={self.state_dir}",
            "-cp", classpath, "kafka.Kafka", str(properties),
        ]

    def _format_storage(self, java: str, classpath: str, properties: Path) -> None:
        done = subprocess.run(
            [java, "-cp", classpath, "kafka.tools.StorageTool", "format",
             "-t", _cluster_id(), "-c", str(properties)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise ServiceError(f"kafka storage format failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def ready(self) -> bool:
        if not _api_versions_ok(HOST, self.ports[0]):
            return False
        return _topics_listable(f"{HOST}:{self.ports[0]}")


def _cluster_id() -> str:
    # What `StorageTool random-uuid` prints (Kafka's Uuid: URL-safe base64, no padding, not
    # starting with '-'), without paying for a JVM start.
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not candidate.startswith("-"):
            return candidate


def _api_versions_ok(host: str, port: int) -> bool:
    """Send ApiVersions v0 and check error_code 0: the broker, not just its socket, is up."""
    client_id = b"tierwatch-services"
    header = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(header)) + header)
            size = struct.unpack(">i", _recv_exact(sock, 4))[0]
            body = _recv_exact(sock, size)
    except (OSError, struct.error):
        return False
    correlation_id, error_code = struct.unpack(">ih", body[:6])
    return bool(correlation_id == 1 and error_code == 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise OSError("connection closed")
        chunks.extend(chunk)
    return bytes(chunks)


def _topics_listable(bootstrap: str) -> bool:
    """A metadata round trip through confluent-kafka when it is installed (it is optional here)."""
    try:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient
    except ImportError:
        return True
    # The logger keeps librdkafka's "connection refused" lines (while the broker starts) off stderr.
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "tierwatch-services"},
                        logger=logging.getLogger(__name__))
    try:
        admin.list_topics(timeout=5)
        return True
    except KafkaException:
        return False
