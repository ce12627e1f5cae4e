"""Intake topics on the bus: created with their dead-letter topics; Kafka-only topic options.

The knobs themselves are settings (``tierwatch.core.settings.IntakeSettings``, TIERWATCH_INTAKE_*).
"""

from __future__ import annotations

import logging
from typing import Any

from tierwatch.core.bus import EventBus, dlq_topic
from tierwatch.core.settings import IntakeSettings

log = logging.getLogger(__name__)


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
        for name, size in ((topic, settings.max_message_bytes), (dlq_topic(topic), settings.dead_letter_bytes)):
            configs = {"retention.ms": retention, "max.message.bytes": str(size)}
            entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()]
            resources.append(ConfigResource("topic", bus.prefix + name, incremental_configs=entries))
    for future in bus.admin.incremental_alter_configs(resources).values():
        future.result()


def kafka_consumer_options(settings: IntakeSettings) -> dict[str, Any]:
    """Group membership timings (librdkafka names) from TIERWATCH_INTAKE_* settings."""
    return {
        "session.timeout.ms": int(settings.session_timeout * 1000),
        "heartbeat.interval.ms": int(settings.heartbeat_interval * 1000),
        "max.poll.interval.ms": int(settings.max_poll_interval * 1000),
    }


def kafka_producer_options(settings: IntakeSettings) -> dict[str, Any]:
    """Producer options that let a worker dead-letter anything its topics accepted."""
    return {"message.max.bytes": settings.dead_letter_bytes, "linger.ms": 5}
