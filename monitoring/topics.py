"""Intake topics and the worker's knobs, read from TIERWATCH_INTAKE_* environment variables.

Topic names here are logical; the bus adds the deployment prefix (TIERWATCH_KAFKA_TOPIC_PREFIX)
and the partition count (TIERWATCH_KAFKA_PARTITIONS). External producers write to
``<prefix>reports.scam`` and ``<prefix>reports.incident`` directly.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.bus import EventBus, dlq_topic

log = logging.getLogger(__name__)

MiB = 1024 * 1024


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERWATCH_INTAKE_", extra="ignore", frozen=True)

    scam_topic: str = "reports.scam"
    incident_topic: str = "reports.incident"
    application_topic: str = "applications.events"
    alert_topic: str = "alerts"
    retention_hours: int = Field(default=24 * 14, ge=1)
    # Room for an oversized message to reach the worker and be dead-lettered with a reason,
    # instead of the broker refusing it where nobody reads the error.
    max_message_bytes: int = Field(default=8 * MiB, ge=MiB)
    group: str = "tierwatch-intake"
    # Measured (bench/bench_pipeline.py): 500 -> 1,000 -> 2,000 took two workers from ~1,800 to
    # ~2,000 to ~2,200 reports/s; fixed costs per batch (statements, commits, fsyncs) shrink.
    # Under light load batches stay small, so this does not add latency.
    batch_size: int = Field(default=2000, ge=1, le=10_000)
    poll_timeout: float = Field(default=0.5, gt=0)
    max_backoff: float = Field(default=10.0, gt=0)
    models_dir: str = ""  # trained detectors; empty = <TIERWATCH_DATA_DIR>/models; none active = rules

    def kind_topics(self) -> dict[str, str]:
        """Message kind -> topic."""
        return {
            "scam": self.scam_topic,
            "incident": self.incident_topic,
            "application": self.application_topic,
            "alert": self.alert_topic,
        }

    def all_topics(self) -> list[str]:
        topics = list(self.kind_topics().values())
        return topics + [dlq_topic(t) for t in topics]


def ensure_topics(bus: EventBus, settings: IntakeSettings) -> None:
    """Create the intake topics and their dead-letter topics; on Kafka also set retention and size."""
    bus.ensure_topics(settings.all_topics())
    if hasattr(bus, "bootstrap") and hasattr(bus, "prefix"):
        _kafka_topic_configs(bus, settings)


def _kafka_topic_configs(bus: Any, settings: IntakeSettings) -> None:
    # The bus port has no topic options, so Kafka-only settings are applied here, idempotently.
    # Incremental: sets these two and leaves any other config of the topic as it is.
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    retention = str(settings.retention_hours * 3600 * 1000)
    resources = []
    for topic in settings.kind_topics().values():
        for name, size in ((topic, settings.max_message_bytes), (dlq_topic(topic), _dlq_bytes(settings))):
            configs = {"retention.ms": retention, "max.message.bytes": str(size)}
            entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()]
            resources.append(ConfigResource("topic", bus.prefix + name, incremental_configs=entries))
    for future in bus.admin.incremental_alter_configs(resources).values():
        future.result()


def _dlq_bytes(settings: IntakeSettings) -> int:
    # A dead letter is the original record plus a few headers (reason, source offset).
    return settings.max_message_bytes + 64 * 1024


def kafka_producer_options(settings: IntakeSettings) -> dict[str, Any]:
    """Producer options that let a worker dead-letter anything its topics accepted."""
    return {"message.max.bytes": _dlq_bytes(settings), "linger.ms": 5}
