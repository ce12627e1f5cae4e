"""Sending what the outbox holds: e-mail over SMTP, signed webhooks, the alerts index.

Webhooks are signed so a receiver can trust and deduplicate them:
``X-Tierwatch-Timestamp: <unix seconds>`` and
``X-Tierwatch-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``, plus
``X-Tierwatch-Delivery: <outbox id>``. A receiver rejects a timestamp more than five minutes
off (a replayed request) and a delivery id it has seen (a retry after a lost answer);
``verify_signature`` does both checks for partners and for our own tests. Each endpoint's secret
is derived from the key ring's "webhook" key and never stored; it is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, MutableSet
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from tierwatch.core.search import IndexSchema
from tierwatch.monitoring.alerts.models import Alert
from tierwatch.monitoring.outbox import OutboxMessage

TOLERANCE = 300  # seconds a webhook's timestamp may be off


def endpoint_secret(webhook_key: bytes, endpoint_id: int, version: int) -> str:
    return hmac.new(webhook_key, f"endpoint:{endpoint_id}:{version}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


class BadSignature(ValueError):
    pass


def verify_signature(secrets: list[str], headers: Mapping[str, str], body: bytes, *, now: float | None = None,
                     seen: MutableSet[str] | None = None, tolerance: int = TOLERANCE) -> str:
    """Check a received webhook; returns its delivery id, or raises BadSignature. ``secrets``:
    the current one and, during a rotation, the previous one. ``seen``: delivery ids already
    processed (a replay of one of them is refused)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lower["x-tierwatch-timestamp"])
        delivery = lower["x-tierwatch-delivery"]
        offered = [p.strip() for p in lower["x-tierwatch-signature"].split(",")]
    except (KeyError, ValueError):
        raise BadSignature("missing or malformed signature headers") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise BadSignature("timestamp too far from now (a replay?)")
    expected = {sign(s, timestamp, body) for s in secrets}
    if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
        raise BadSignature("signature does not match")
    if seen is not None:
        if delivery in seen:
            raise BadSignature(f"delivery {delivery} was already received")
        seen.add(delivery)
    return delivery


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


def send_email(config: SmtpConfig, message: OutboxMessage) -> str:
    payload = message.payload
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = config.sender, payload["to"], payload["subject"]
    # The outbox id makes a resend after a crash recognisable as the same message.
    mail["Message-ID"] = f"<outbox-{message.id}@tierwatch>"
    mail["X-Tierwatch-Delivery"] = str(message.id)
    mail.set_content(payload["text"])
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.user:
            smtp.login(config.user, config.password)
        refused = smtp.send_message(mail)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return f"accepted by {config.host}:{config.port}"


Endpoint = tuple[str, str]  # (url, secret); None when the endpoint was revoked


def send_webhook(endpoint: Callable[[int], Endpoint | None], message: OutboxMessage, timeout: float = 10.0,
                 clock: Callable[[], float] = time.time) -> str:
    found = endpoint(int(message.target))
    if found is None:
        return "endpoint revoked: not sent"
    url, secret = found
    body = json.dumps({"delivery": str(message.id), **message.payload}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
    timestamp = int(clock())
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "tierwatch-alerts",
        "X-Tierwatch-Delivery": str(message.id), "X-Tierwatch-Timestamp": str(timestamp),
        "X-Tierwatch-Signature": sign(secret, timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 # nosec B310 # http(s) URLs only (checked on creation)
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code} from the receiver") from None


# --- the alerts index ------------------------------------------------------------------------

ALERTS_INDEX = "alerts"
ALERTS_SCHEMA = IndexSchema(
    text=("title", "summary", "reason"),
    keyword=("rule_id", "state", "severity", "owner", "rule_group", "group_key", "identifiers",
             "application_ids", "campaign_ids", "tier", "verdict", "assignee"),
    date=("opened_at", "first_match_at", "last_match_at", "closed_at", "updated_at"),
    number=("report_count", "value"),
    boolean=("overdue",),
)


def alert_document(alert: Alert) -> dict[str, Any]:
    """The alert as the analysts' search finds it (full identifiers: the index is internal)."""
    doc: dict[str, Any] = {
        "id": str(alert.id), "title": [alert.title["zh"], alert.title["en"]],
        "summary": [alert.summary["zh"], alert.summary["en"]], "reason": [alert.reason["zh"], alert.reason["en"]],
        "rule_id": alert.rule_id, "state": alert.state, "severity": alert.severity, "owner": alert.owner,
        "rule_group": alert.rule_group, "identifiers": list(alert.identifiers),
        "application_ids": [str(a) for a in alert.application_ids], "campaign_ids": [str(c) for c in alert.campaign_ids],
        "first_match_at": alert.first_match_at, "last_match_at": alert.last_match_at, "updated_at": alert.updated_at,
        "report_count": alert.report_count, "overdue": bool(alert.overdue_ack or alert.overdue_resolve),
    }
    optional = {"group_key": alert.group_key or None, "tier": alert.tier, "verdict": alert.verdict,
                "assignee": str(alert.assignee_id) if alert.assignee_id else None, "opened_at": alert.opened_at,
                "closed_at": alert.closed_at, "value": alert.value}
    doc.update({k: v for k, v in optional.items() if v is not None})
    return doc
