"""Alerts API: the queue (filters, sort, text search), an alert with its reports, timeline and
held-back matches, triage actions alone or in bulk. Analysts, regulators and administrators
read; analysts and administrators act; companies never see alerts. The work is done by
`monitoring.alerts.service`; identifiers are shown in full here (analysts), masked only in
notifications."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from tierwatch.core.errors import Invalid
from tierwatch.monitoring.alerts import service
from tierwatch.monitoring.alerts.models import Alert, AlertEvent, AlertSuppression
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.alerts.schemas import ActionIn, BulkIn
from tierwatch.monitoring.alerts.text_search import alert_ids_matching
from tierwatch.monitoring.models import Report
from tierwatch.web.api.alert_schemas import AlertDetailOut, AlertList, AlertOut, AlertQuery, BulkOut
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, int_arg, iso, paging
from tierwatch.web.auth import REGULATOR_SIDE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.openapi import Error, operation

# Analysts, regulators, administrators read; who may act is the use case's to say (regulators
# read only: 403 from there).
READERS = REGULATOR_SIDE
# URL step -> the use case's action name
ACTIONS = {"acknowledge": "acknowledge", "escalate": "escalate", "resolve": "resolve",
           "false-positive": "false_positive", "reopen": "reopen", "assign": "assign", "comments": "comment"}


def alert_json(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "rule_id": a.rule_id, "state": a.state, "severity": a.severity, "tier": a.tier,
        "owner": a.owner, "group": a.rule_group, "title": a.title, "summary": a.summary, "reason": a.reason,
        "key": a.group_key or None, "key_field": a.group_field, "value": a.value, "threshold": a.threshold,
        "counts": a.counts, "report_count": a.report_count, "match_count": a.match_count,
        "identifiers": a.identifiers, "application_ids": a.application_ids, "campaign_ids": a.campaign_ids,
        "window": {"start": iso(a.window_start), "end": iso(a.window_end)},
        "first_match_at": iso(a.first_match_at), "last_match_at": iso(a.last_match_at),
        "pending_since": iso(a.pending_since), "opened_at": iso(a.opened_at),
        "acknowledged_at": iso(a.acknowledged_at), "escalated_at": iso(a.escalated_at),
        "cleared_at": iso(a.cleared_at), "closed_at": iso(a.closed_at), "verdict": a.verdict,
        "reopen_count": a.reopen_count, "assignee_id": a.assignee_id,
        "sla": {"ack_due_at": iso(a.ack_due_at), "resolve_due_at": iso(a.resolve_due_at),
                "overdue_ack": a.overdue_ack, "overdue_resolve": a.overdue_resolve},
        "tier_review_id": a.tier_review_id, "updated_at": iso(a.updated_at), "version": a.version,
    }


def _report_json(r: Report) -> dict[str, Any]:
    return {"report_id": r.report_id, "kind": r.kind, "reported_at": iso(r.reported_at), "channel": r.channel,
            "region": r.region, "app_name": r.app_name, "description": r.description,
            "scam_probability": r.scam_probability, "scam_type": r.scam_type, "ai_technique": r.ai_technique,
            "score_reasons": r.score_reasons, "amount_lost": r.amount_lost, "application_id": r.application_id,
            "campaign_id": r.campaign_id}


def _event_json(e: AlertEvent) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.at), "actor": e.actor, "action": e.action, "data": e.data}


def _held_json(s: AlertSuppression) -> dict[str, Any]:
    return {"reason": s.reason, "key": s.group_key or None, "alert_id": s.alert_id, "silence_id": s.silence_id,
            "count": s.count, "first_at": iso(s.first_at), "last_at": iso(s.last_at), "until": iso(s.until),
            "sample_report_ids": s.sample_report_ids}


def _notifier() -> Notifier:
    return Notifier(container_of(current_app).settings.alerts.base_url)


def _listed(name: str) -> tuple[str, ...]:
    return tuple(v for raw in request.args.getlist(name) for v in raw.split(",") if v)


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        raise Invalid.one(name, "true or false")
    return raw.lower() in ("true", "1")


@bp.get("/alerts")
@allow(*READERS)
@operation("The alert queue: filters, sort, text search", query=AlertQuery, responses={200: AlertList},
           tags=("alerts",))
def list_alerts() -> Any:
    limit, offset = paging(50, 500)
    q = (request.args.get("q") or "").strip()
    uow, me = request_uow(), actor()
    f = service.AlertFilter(
        states=_listed("state"), severities=_listed("severity"), rule_id=request.args.get("rule_id") or None,
        owner=request.args.get("owner") or None, group=request.args.get("group") or None,
        assignee_id=int_arg("assignee_id"), tier=request.args.get("tier") or None, overdue=_flag("overdue"),
        ids=alert_ids_matching(uow, me, container_of(current_app).search, q) if q else None,
        sort=request.args.get("sort") or "-opened_at")
    alerts, total = service.list_alerts(uow, me, f, limit, offset)
    return jsonify({"items": [alert_json(a) for a in alerts], "total": total, "limit": limit, "offset": offset})


@bp.get("/alerts/<int:alert_id>")
@allow(*READERS)
@operation("An alert with its reports, timeline and held-back matches", responses={200: AlertDetailOut, 404: Error},
           tags=("alerts",))
def get_alert(alert_id: int) -> Any:
    detail = service.alert_detail(request_uow(), actor(), alert_id)
    return jsonify({**alert_json(detail.alert), "reports": [_report_json(r) for r in detail.reports],
                    "events": [_event_json(e) for e in detail.events],
                    "held_back": [_held_json(s) for s in detail.suppressions]})


@bp.post("/alerts/<int:alert_id>/<any('acknowledge', 'escalate', 'resolve', 'false-positive', 'reopen', 'assign', 'comments'):step>")
@allow(*READERS)
@operation("Triage one alert: acknowledge, escalate (optionally opening a tier review), resolve, mark a false "
           "positive, reopen, assign, comment", body=ActionIn,
           responses={200: AlertOut, 201: AlertOut, 404: Error, 409: Error}, tags=("alerts",))
def alert_action(alert_id: int, step: str) -> Any:
    data = body(ActionIn)
    uow = request_uow()
    alert = service.act(uow, actor(), alert_id, service.Action(ACTIONS[step], **data.model_dump()), _notifier())
    uow.commit()
    return jsonify(alert_json(alert)), 201 if step == "comments" else 200


@bp.post("/alerts/bulk")
@allow(*READERS)
@operation("The same action on several alerts; each audited on its own, the refused ones listed",
           body=BulkIn, responses={200: BulkOut}, tags=("alerts",))
def bulk_action() -> Any:
    data = body(BulkIn)
    fields = data.model_dump(exclude={"ids", "action"})
    uow = request_uow()
    result = service.bulk(uow, actor(), data.ids, service.Action(data.action, **fields), _notifier())
    uow.commit()
    return jsonify({"done": result.done, "refused": {str(k): v for k, v in result.refused.items()}})
