"""What surrounds the alert queue: silences, subscriptions and webhook endpoints, run records
and the rules in force. Reading is for analysts, regulators and administrators; silencing for
analysts and administrators; subscriptions and endpoints are each user's own."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from tierwatch.core.clock import utcnow
from tierwatch.monitoring.alerts import service, subscriptions
from tierwatch.monitoring.alerts.model import format_duration
from tierwatch.monitoring.alerts.models import AlertRun, AlertSilence, AlertSubscription, WebhookEndpoint
from tierwatch.monitoring.alerts.schemas import SilenceIn, SubscriptionIn, WebhookIn
from tierwatch.monitoring.alerts.types import group_field
from tierwatch.web.api.alert_schemas import (
    AlertRuleList, Deleted, EndpointList, EndpointOut, RunList, RunQuery, SilenceList, SilenceOut, SilenceQuery,
    SubscriptionList, SubscriptionOut,
)
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, iso, paging
from tierwatch.web.auth import REGULATOR_SIDE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.openapi import Error, operation

READERS = REGULATOR_SIDE


def silence_json(s: AlertSilence) -> dict[str, Any]:
    return {"id": s.id, "rule_id": s.rule_id, "key": s.group_key, "owner": s.owner, "reason": s.reason,
            "starts_at": iso(s.starts_at), "expires_at": iso(s.expires_at), "revoked_at": iso(s.revoked_at),
            "revoked_by": s.revoked_by}


def subscription_json(s: AlertSubscription) -> dict[str, Any]:
    return {"id": s.id, "user_id": s.user_id, "channel": s.channel, "endpoint_id": s.endpoint_id,
            "min_severity": s.min_severity, "rule_groups": s.rule_groups, "owners": s.owners,
            "digest_only": s.digest_only}


def endpoint_json(e: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    data = {"id": e.id, "name": e.name, "url": e.url, "secret_version": e.secret_version,
            "created_at": iso(e.created_at)}
    if secret is not None:
        data["secret"] = secret  # shown this once; derived from the key ring, never stored
    return data


def run_json(r: AlertRun) -> dict[str, Any]:
    return {"id": r.id, "cycle_id": r.cycle_id, "evaluator": r.evaluator, "source": r.source, "rule_id": r.rule_id,
            "window_start": iso(r.window_start), "window_end": iso(r.window_end), "matches": r.matches,
            "opened": r.opened, "updated": r.updated, "suppressed": r.suppressed, "requests": r.requests,
            "took_ms": r.took_ms, "error": r.error, "at": iso(r.at)}


def _webhook_key() -> bytes:
    return container_of(current_app).keys.key("webhook")


# --- silences --------------------------------------------------------------------------------


@bp.get("/alert-silences")
@allow(*READERS)
@operation("Silences in force (all: expired and lifted ones too)", query=SilenceQuery, responses={200: SilenceList}, tags=("alerts",))
def list_silences() -> Any:
    everything = request.args.get("all") in ("1", "true")
    return jsonify({"items": [silence_json(s) for s in service.list_silences(request_uow(), actor(),
                                                                             active_only=not everything)]})


@bp.post("/alert-silences")
@allow(*READERS)
@operation("Silence a rule, a key, or a key of a rule for a while (owner, reason, at most 30 days)", body=SilenceIn, responses={201: SilenceOut}, tags=("alerts",))
def create_silence() -> Any:
    data = body(SilenceIn)
    uow = request_uow()
    known = {r.id for r in container_of(current_app).alert_rules.rules()}
    silence = service.create_silence(uow, actor(), reason=data.reason, expires_at=data.until(utcnow()),
                                     rule_id=data.rule_id, group_key=data.group_key, starts_at=data.starts_at,
                                     known_rules=known)
    uow.commit()
    return jsonify(silence_json(silence)), 201


@bp.delete("/alert-silences/<int:silence_id>")
@allow(*READERS)
@operation("Lift a silence", responses={200: SilenceOut, 404: Error, 409: Error}, tags=("alerts",))
def lift_silence(silence_id: int) -> Any:
    uow = request_uow()
    silence = service.revoke_silence(uow, actor(), silence_id)
    uow.commit()
    return jsonify(silence_json(silence))


# --- subscriptions and webhook endpoints -------------------------------------------------------


@bp.get("/alert-subscriptions")
@allow(*READERS)
@operation("The caller's subscriptions (an administrator: everyone's)", responses={200: SubscriptionList}, tags=("alerts",))
def list_subscriptions() -> Any:
    return jsonify({"items": [subscription_json(s) for s in subscriptions.list_subscriptions(request_uow(), actor())]})


@bp.post("/alert-subscriptions")
@allow(*READERS)
@operation("Subscribe to alert notifications by e-mail or webhook", body=SubscriptionIn, responses={201: SubscriptionOut}, tags=("alerts",))
def create_subscription() -> Any:
    data = body(SubscriptionIn)
    uow = request_uow()
    sub = subscriptions.create_subscription(uow, actor(), **data.model_dump())
    uow.commit()
    return jsonify(subscription_json(sub)), 201


@bp.delete("/alert-subscriptions/<int:subscription_id>")
@allow(*READERS)
@operation("Unsubscribe", responses={200: Deleted, 404: Error}, tags=("alerts",))
def delete_subscription(subscription_id: int) -> Any:
    uow = request_uow()
    subscriptions.delete_subscription(uow, actor(), subscription_id)
    uow.commit()
    return jsonify({"id": subscription_id, "deleted": True})


@bp.get("/alert-webhooks")
@allow(*READERS)
@operation("The caller's webhook endpoints", responses={200: EndpointList}, tags=("alerts",))
def list_endpoints() -> Any:
    return jsonify({"items": [endpoint_json(e) for e in subscriptions.list_endpoints(request_uow(), actor())]})


@bp.post("/alert-webhooks")
@allow(*READERS)
@operation("A webhook endpoint; its signing secret is shown this once", body=WebhookIn, responses={201: EndpointOut}, tags=("alerts",))
def create_endpoint() -> Any:
    data = body(WebhookIn)
    uow = request_uow()
    endpoint, secret = subscriptions.create_endpoint(uow, actor(), _webhook_key(), name=data.name, url=data.url)
    uow.commit()
    return jsonify(endpoint_json(endpoint, secret)), 201


@bp.post("/alert-webhooks/<int:endpoint_id>/rotate")
@allow(*READERS)
@operation("A new signing secret for an endpoint, shown this once", responses={200: EndpointOut, 404: Error, 409: Error}, tags=("alerts",))
def rotate_endpoint(endpoint_id: int) -> Any:
    uow = request_uow()
    endpoint, secret = subscriptions.rotate_secret(uow, actor(), _webhook_key(), endpoint_id)
    uow.commit()
    return jsonify(endpoint_json(endpoint, secret))


@bp.delete("/alert-webhooks/<int:endpoint_id>")
@allow(*READERS)
@operation("Revoke a webhook endpoint", responses={200: EndpointOut, 404: Error, 409: Error}, tags=("alerts",))
def revoke_endpoint(endpoint_id: int) -> Any:
    uow = request_uow()
    endpoint = subscriptions.revoke_endpoint(uow, actor(), endpoint_id)
    uow.commit()
    return jsonify({**endpoint_json(endpoint), "revoked_at": iso(endpoint.revoked_at)})


# --- run records and rules -----------------------------------------------------------------------


@bp.get("/alert-runs")
@allow(*READERS)
@operation("Evaluation run records, newest first", query=RunQuery, responses={200: RunList}, tags=("alerts",))
def list_runs() -> Any:
    limit, offset = paging(100, 1000)
    runs = service.list_runs(request_uow(), actor(), rule_id=request.args.get("rule_id") or None,
                             errors_only=request.args.get("errors") in ("1", "true"), limit=limit, offset=offset)
    return jsonify({"items": [run_json(r) for r in runs]})


@bp.get("/alert-rules")
@allow(*READERS)
@operation("The alert rules in force (and the errors of files that could not be loaded)", responses={200: AlertRuleList}, tags=("alerts",))
def list_rules() -> Any:
    catalog = container_of(current_app).alert_rules
    rules = [{"id": r.id, "type": r.type, "title": {"zh": r.title.zh, "en": r.title.en}, "enabled": r.enabled,
              "owner": r.owner, "group": r.group, "severity": r.severity.for_tier(None),
              "severity_by_tier": r.severity.by_tier, "key_field": group_field(r),
              "every": format_duration(r.schedule.every), "checksum": r.checksum} for r in catalog.rules()]
    return jsonify({"items": rules, "errors": list(catalog.errors)})
