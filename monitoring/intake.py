"""Submitting reports: validate, publish, and answer only once the broker has the message.

The web API and the CLI call these; nothing here knows about Flask. ``publish`` on the bus
returns after the broker acknowledged (Kafka acks=all, idempotent producer), so a tracking code
handed to a citizen always belongs to a report that will be processed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tierwatch.core.bus import EventBus
from tierwatch.core.clock import utcnow
from tierwatch.core.ids import new_id
from tierwatch.monitoring.messages import InvalidMessage, Report, to_bytes, tracking_code_for, validate_report
from tierwatch.core.settings import IntakeSettings


@dataclass(frozen=True)
class Receipt:
    report_id: str
    tracking_code: str
    topic: str


def build_report(kind: str, data: dict[str, Any], **server_fields: Any) -> Report:
    """A report from client data: the server fills report_id / reported_at when missing and
    overrides ``server_fields`` (e.g. source, reporter_type). Raises InvalidMessage."""
    if kind not in ("scam", "incident"):
        raise InvalidMessage(f"kind: must be 'scam' or 'incident', got {kind!r}",
                             [{"field": "kind", "message": "must be 'scam' or 'incident'"}])
    body = dict(data)
    body.setdefault("report_id", new_id())
    body.setdefault("reported_at", utcnow().isoformat())
    body["kind"] = kind
    body.update({k: v for k, v in server_fields.items() if v is not None})
    return validate_report(body, kind)


def submit_report(bus: EventBus, report: Report, settings: IntakeSettings) -> Receipt:
    """Publish one report; returns after the broker acknowledged it."""
    topic = settings.kind_topics()[report.kind]
    bus.publish(topic, to_bytes(report), key=report.report_id)
    return Receipt(report.report_id, tracking_code_for(report.report_id), topic)


def submit_many(bus: EventBus, reports: Sequence[Report], settings: IntakeSettings) -> list[Receipt]:
    """Publish a batch (one round of acknowledgements per topic); all or an exception."""
    topics = settings.kind_topics()
    by_topic: dict[str, list[Report]] = {}
    for report in reports:
        by_topic.setdefault(topics[report.kind], []).append(report)
    for topic, items in by_topic.items():
        bus.publish_many(topic, ((r.report_id, to_bytes(r)) for r in items))
    return [Receipt(r.report_id, tracking_code_for(r.report_id), topics[r.kind]) for r in reports]


def publish_raw(bus: EventBus, topic: str, lines: Iterable[bytes]) -> int:
    """Partner-feed replay: publish lines as they are. The worker validates and dead-letters,
    so a bad line in a feed gets a reason instead of stopping the replay."""
    import json

    items = []
    for line in lines:
        key = None
        try:
            data = json.loads(line)
            key = data.get("report_id") if isinstance(data, dict) else None
        except ValueError:
            pass
        items.append((key if isinstance(key, str) else None, line))
    return bus.publish_many(topic, items)
