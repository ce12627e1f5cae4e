"""Submitting reports: validate, publish, and answer only once the broker has the message.

The web API, the public form and the CLI call these; nothing here knows about Flask. ``publish``
on the bus returns after the broker acknowledged (Kafka acks=all, idempotent producer), so a
tracking code handed to a citizen always belongs to a report that will be processed.

Retries never make a second report. A report's ``report_id`` is its identity all the way to the
database (the worker stores a report_id once), and a retry carries the same one: either the
client's own ``report_id``, or one derived from the client's idempotency key (the API's
``Idempotency-Key`` header, the form's hidden token) and who sent it. So whether the first attempt
was acknowledged, timed out, or is still queued in the producer and arrives later, the same key
gives the same report_id and tracking code, and one stored report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.core.bus import EventBus
from tierwatch.core.errors import Forbidden, Invalid
from tierwatch.core.clock import utcnow
from tierwatch.core.ids import new_id
from tierwatch.monitoring.messages import InvalidMessage, Report, to_bytes, tracking_code_for, validate_report
from tierwatch.core.settings import IntakeSettings


@dataclass(frozen=True)
class Receipt:
    report_id: str
    tracking_code: str
    topic: str


class NotAcknowledged(Exception):
    """The broker did not confirm in time. The report may still arrive (queued in the producer or
    in flight): the caller must retry with the same report ids (``receipts``), never new ones."""

    def __init__(self, receipts: list[Receipt], cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.receipts = receipts


# Long and random enough that two clients never pick the same key by chance: a UUID, or the
# form's token (secrets.token_urlsafe(16) is 22 characters).
_KEY = re.compile(r"^[\x21-\x7e]{16,128}$")
KEY_RULE = "16 to 128 visible ASCII characters, e.g. a UUID; the same for every retry of one report"


def check_idempotency_key(key: str) -> str:
    """The key as given, or InvalidMessage naming the rule."""
    if not _KEY.match(key):
        raise InvalidMessage(f"idempotency key: {KEY_RULE}", [{"field": "Idempotency-Key", "message": KEY_RULE}])
    return key


def report_id_for_key(key: str, sender: str, purpose: str) -> str:
    """The report_id an idempotency key stands for. ``sender`` scopes keys (a user id, or
    "anonymous"), ``purpose`` the endpoint ("scam", "incident", "bulk#3"), so one client's key
    never lands on another's report. Not a secret: the id is handed back to the client anyway."""
    digest = hashlib.blake2b(f"{sender}\n{purpose}\n{key}".encode(), digest_size=16, person=b"tw-idempotency")
    return f"ik-{digest.hexdigest()}"


@dataclass(frozen=True)
class Submitter:
    """Who sends a report, as far as intake cares. ``role`` None is an anonymous citizen."""

    role: str | None = None
    company_id: int | None = None
    company_name: str | None = None
    feed_name: str | None = None  # a partner feed account's name: the source of its reports
    # Who this is as a keyed hash (monitoring.reporters): account, else contact, else address.
    reporter_key: str | None = None


# Who may send which kind of report.
INCIDENT_ROLES = ("company", "regulator", "admin")
SCAM_ROLES = (None, "partner", "company", "regulator", "analyst", "admin")


def submission(
    session: Session,
    kind: str,
    data: dict[str, Any],
    submitter: Submitter,
    *,
    idempotency_key: str | None = None,
    sender: str = "anonymous",
    purpose: str | None = None,
) -> Report:
    """A report as this submitter may send it: the fields that say who reported (reporter type,
    source, company) come from the account, never from the body, and a company files incidents
    only under its own filing numbers. ``idempotency_key``, ``sender`` and ``purpose`` decide the
    report_id when the body has none (build_report). Raises Forbidden, Invalid (field-level) or
    InvalidMessage."""
    keyed = {"idempotency_key": idempotency_key, "sender": sender, "purpose": purpose}
    allowed = INCIDENT_ROLES if kind == "incident" else SCAM_ROLES
    if kind in ("scam", "incident") and submitter.role not in allowed:
        raise Forbidden(f"{kind} reports are not sent by role {submitter.role or 'anonymous'}")
    if kind == "scam":
        reporter_type, source = {
            None: ("citizen", "web"),
            "partner": ("partner_feed", submitter.feed_name),
            "company": ("company", submitter.company_name),
        }.get(submitter.role, ("citizen", "regulator"))
        # Whatever the body claims is dropped: being a partner feed is a property of the account,
        # and who the reporter is, is the intake's to say (else anyone could pose as many people).
        claimed = {k: v for k, v in data.items() if k not in ("reporter_type", "source", "reporter_key")}
        return build_report(kind, claimed, reporter_type=reporter_type, source=source,
                            reporter_key=submitter.reporter_key, **keyed)
    server: dict[str, Any] = {}
    if submitter.role == "company":
        server["company"] = submitter.company_name
        filing = data.get("filing_number")
        if isinstance(filing, str) and filing.strip():
            owner = filing_owner(session, filing)
            if owner is not None and owner != submitter.company_id:
                raise Invalid.one("filing_number", "not a filing of your company")
    return build_report(kind, data, **keyed, **server)


def filing_owner(session: Session, filing_number: str) -> int | None:
    """The company id behind a filing number (as normalised for linking), if it is registered."""
    from tierwatch.monitoring.linking import normalise_filing_number
    from tierwatch.registry.models import Application

    candidates = {filing_number.strip(), normalise_filing_number(filing_number)}
    owner = session.scalar(sa.select(Application.company_id).where(Application.filing_number.in_(candidates)))
    return int(owner) if owner is not None else None


def build_report(
    kind: str,
    data: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    sender: str = "anonymous",
    purpose: str | None = None,
    **server_fields: Any,
) -> Report:
    """A report from client data: the server fills report_id / reported_at when missing and
    overrides ``server_fields`` (e.g. source, reporter_type). Without a report_id in ``data``,
    ``idempotency_key`` decides it (see report_id_for_key; ``purpose`` defaults to the kind).
    Raises InvalidMessage."""
    if kind not in ("scam", "incident"):
        raise InvalidMessage(f"kind: must be 'scam' or 'incident', got {kind!r}",
                             [{"field": "kind", "message": "must be 'scam' or 'incident'"}])
    body = dict(data)
    if "report_id" not in body and idempotency_key is not None:
        body["report_id"] = report_id_for_key(check_idempotency_key(idempotency_key), sender, purpose or kind)
    body.setdefault("report_id", new_id())
    body.setdefault("reported_at", utcnow().isoformat())
    body["kind"] = kind
    body.update({k: v for k, v in server_fields.items() if v is not None})
    return validate_report(body, kind)


def submit_report(bus: EventBus, report: Report, settings: IntakeSettings, tracking_key: bytes) -> Receipt:
    """Publish one report; returns after the broker acknowledged it, else NotAcknowledged.
    ``tracking_key``: the key ring's "tracking" key, the one the worker stores codes with."""
    topic = settings.kind_topics()[report.kind]
    receipt = Receipt(report.report_id, tracking_code_for(report.report_id, tracking_key), topic)
    try:
        bus.publish(topic, to_bytes(report), key=report.report_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: not confirmed, may still arrive
        raise NotAcknowledged([receipt], exc) from exc
    return receipt


def submit_many(bus: EventBus, reports: Sequence[Report], settings: IntakeSettings,
                tracking_key: bytes) -> list[Receipt]:
    """Publish a batch (one round of acknowledgements per topic); all or NotAcknowledged."""
    topics = settings.kind_topics()
    receipts = [Receipt(r.report_id, tracking_code_for(r.report_id, tracking_key), topics[r.kind]) for r in reports]
    by_topic: dict[str, list[Report]] = {}
    for report in reports:
        by_topic.setdefault(topics[report.kind], []).append(report)
    try:
        for topic, items in by_topic.items():
            bus.publish_many(topic, ((r.report_id, to_bytes(r)) for r in items))
    except Exception as exc:  # noqa: BLE001
        raise NotAcknowledged(receipts, exc) from exc
    return receipts


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
