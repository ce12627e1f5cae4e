"""Who wants which notifications: per-user subscriptions (e-mail or a webhook endpoint) by
minimum severity, rule groups and owners, and the webhook endpoints with their signing secrets.

Analysts, regulators and administrators manage their own subscriptions and endpoints (an
administrator also anyone's). A secret is derived from the key ring and shown once, on creation
or rotation; it is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Invalid, NotFound
from tierwatch.monitoring.alerts.delivery import endpoint_secret
from tierwatch.monitoring.alerts.model import SEVERITIES
from tierwatch.monitoring.alerts.models import AlertSubscription, WebhookEndpoint
from tierwatch.registry import audit

OWNERS = ("analyst", "regulator", "admin")


def _check(actor: Actor) -> int:
    if actor.role not in OWNERS or actor.user_id is None:
        raise NotFound("no such subscription")
    return actor.user_id


def _mine(actor: Actor, user_id: int) -> bool:
    return actor.role == "admin" or actor.user_id == user_id


def create_subscription(uow: UnitOfWork, actor: Actor, *, channel: str, min_severity: str = "high",
                        rule_groups: Sequence[str] = (), owners: Sequence[str] = (), digest_only: bool = False,
                        endpoint_id: int | None = None) -> AlertSubscription:
    user_id = _check(actor)
    errors = []
    if channel not in ("email", "webhook"):
        errors.append({"field": "channel", "message": "email or webhook"})
    if min_severity not in SEVERITIES:
        errors.append({"field": "min_severity", "message": f"one of {', '.join(SEVERITIES)}"})
    if channel == "webhook":
        endpoint = uow.session.get(WebhookEndpoint, endpoint_id) if endpoint_id is not None else None
        if endpoint is None or endpoint.revoked_at is not None or not _mine(actor, endpoint.user_id):
            errors.append({"field": "endpoint_id", "message": "one of your webhook endpoints"})
        if digest_only:
            errors.append({"field": "digest_only", "message": "digests are sent by e-mail"})
    elif endpoint_id is not None:
        errors.append({"field": "endpoint_id", "message": "only for channel webhook"})
    if errors:
        raise Invalid(errors)
    sub = AlertSubscription(user_id=user_id, channel=channel, endpoint_id=endpoint_id, min_severity=min_severity,
                            rule_groups=sorted(set(rule_groups)), owners=sorted(set(owners)),
                            digest_only=digest_only, active=True)
    uow.session.add(sub)
    uow.session.flush()
    audit.record(uow, actor, "alert.subscribe", "alert_subscription", sub.id,
                 changes={"channel": channel, "min_severity": min_severity, "rule_groups": sub.rule_groups,
                          "owners": sub.owners, "digest_only": digest_only, "endpoint_id": endpoint_id})
    return sub


def list_subscriptions(uow: UnitOfWork, actor: Actor) -> list[AlertSubscription]:
    user_id = _check(actor)
    stmt = sa.select(AlertSubscription).where(AlertSubscription.active).order_by(AlertSubscription.id)
    if actor.role != "admin":
        stmt = stmt.where(AlertSubscription.user_id == user_id)
    return list(uow.session.scalars(stmt))


def delete_subscription(uow: UnitOfWork, actor: Actor, subscription_id: int) -> None:
    _check(actor)
    sub = uow.session.get(AlertSubscription, subscription_id)
    if sub is None or not sub.active or not _mine(actor, sub.user_id):
        raise NotFound(f"subscription {subscription_id} not found")
    sub.active = False
    audit.record(uow, actor, "alert.unsubscribe", "alert_subscription", sub.id, changes={"active": False})


def create_endpoint(uow: UnitOfWork, actor: Actor, webhook_key: bytes, *, name: str, url: str
                    ) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned this once)."""
    user_id = _check(actor)
    parsed = urlparse(url or "")
    errors = []
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        errors.append({"field": "url", "message": "an http:// or https:// URL"})
    if not (name or "").strip():
        errors.append({"field": "name", "message": "name the endpoint"})
    if errors:
        raise Invalid(errors)
    endpoint = WebhookEndpoint(user_id=user_id, name=name.strip()[:100], url=url[:500], secret_version=1)
    uow.session.add(endpoint)
    uow.session.flush()
    audit.record(uow, actor, "alert.webhook_create", "alert_webhook_endpoint", endpoint.id,
                 changes={"name": endpoint.name, "url": endpoint.url})
    return endpoint, endpoint_secret(webhook_key, endpoint.id, endpoint.secret_version)


def rotate_secret(uow: UnitOfWork, actor: Actor, webhook_key: bytes, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    endpoint = _endpoint(uow, actor, endpoint_id)
    endpoint.secret_version += 1
    audit.record(uow, actor, "alert.webhook_rotate", "alert_webhook_endpoint", endpoint.id,
                 changes={"secret_version": endpoint.secret_version})
    return endpoint, endpoint_secret(webhook_key, endpoint.id, endpoint.secret_version)


def revoke_endpoint(uow: UnitOfWork, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    endpoint = _endpoint(uow, actor, endpoint_id)
    endpoint.revoked_at = utcnow()
    audit.record(uow, actor, "alert.webhook_revoke", "alert_webhook_endpoint", endpoint.id,
                 changes={"revoked_at": endpoint.revoked_at})
    return endpoint


def list_endpoints(uow: UnitOfWork, actor: Actor) -> list[WebhookEndpoint]:
    user_id = _check(actor)
    stmt = sa.select(WebhookEndpoint).where(WebhookEndpoint.revoked_at.is_(None)).order_by(WebhookEndpoint.id)
    if actor.role != "admin":
        stmt = stmt.where(WebhookEndpoint.user_id == user_id)
    return list(uow.session.scalars(stmt))


def _endpoint(uow: UnitOfWork, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    _check(actor)
    endpoint = uow.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not _mine(actor, endpoint.user_id):
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    if endpoint.revoked_at is not None:
        raise Conflict("the endpoint was revoked")
    return endpoint


def endpoint_target(uow: UnitOfWork, webhook_key: bytes, endpoint_id: int) -> tuple[str, str] | None:
    """(url, current secret) for the dispatcher; None for a revoked or missing endpoint."""
    endpoint = uow.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.revoked_at is not None:
        return None
    return endpoint.url, endpoint_secret(webhook_key, endpoint.id, endpoint.secret_version)
