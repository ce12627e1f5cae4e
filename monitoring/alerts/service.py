"""Use cases of alert triage: read alerts, act on them (alone or in bulk), and what the evaluator's
SLA job does. Each takes ``(uow, actor, ...)`` and leaves the commit to the caller, so an action,
its timeline entry, its audit entry, its labels and its notifications commit together.

Who may do what, decided here and only here:
- analysts and administrators triage (act, silence);
- regulators read alerts and receive tier reviews;
- companies never see alerts (NotFound / Forbidden, whatever they ask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.antifraud.labels import add_labels
from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.monitoring.alerts import triage
from tierwatch.monitoring.alerts.models import (
    LIVE_STATES, STATES, Alert, AlertEvent, AlertReport, AlertRun, AlertSilence, AlertSuppression,
)
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.models import Report
from tierwatch.registry import audit
from tierwatch.registry.models import REGULATOR_ROLES, User
from tierwatch.risk import reviews

READERS = ("analyst", "regulator", "admin")
TRIAGERS = ("analyst", "admin")
SORTS = {"opened_at": Alert.opened_at, "updated_at": Alert.updated_at, "severity": Alert.severity,
         "id": Alert.id, "report_count": Alert.report_count, "last_match_at": Alert.last_match_at}
_SEVERITY_ORDER = sa.case({"critical": 3, "high": 2, "medium": 1, "low": 0}, value=Alert.severity)
FALSE_POSITIVE_MUTE = timedelta(days=7)
MAX_SILENCE = timedelta(days=30)
LABEL_CHOICES = ("scam", "not_scam", "leave")
BULK_ACTIONS = ("acknowledge", "assign", "resolve", "false_positive", "escalate", "comment")


def check_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise NotFound("no such alert")  # companies do not learn that alerts exist


def _triage(actor: Actor) -> None:
    check_reader(actor)
    if actor.role not in TRIAGERS:
        raise Forbidden("only analysts (or an administrator) triage alerts")


@dataclass(frozen=True)
class AlertFilter:
    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    rule_id: str | None = None
    owner: str | None = None
    group: str | None = None
    assignee_id: int | None = None
    tier: str | None = None
    overdue: bool | None = None
    ids: tuple[int, ...] | None = None  # e.g. from a text search of the alerts index
    sort: str = "-opened_at"

    def check(self) -> None:
        errors = []
        for name, values, known in (("state", self.states, STATES), ("severity", self.severities,
                                                                          ("low", "medium", "high", "critical"))):
            bad = [v for v in values if v not in known]
            if bad:
                errors.append({"field": name, "message": f"unknown {name} {bad[0]!r} (one of {', '.join(known)})"})
        if self.sort.removeprefix("-") not in SORTS:
            errors.append({"field": "sort", "message": f"one of {', '.join(SORTS)} (prefix - for descending)"})
        if errors:
            raise Invalid(errors)


def filter_conditions(f: AlertFilter) -> list[Any]:
    """The WHERE conditions of ``f`` on ``Alert`` (the queue and its counts per state)."""
    conditions: list[Any] = []
    if f.states:
        conditions.append(Alert.state.in_(f.states))
    if f.severities:
        conditions.append(Alert.severity.in_(f.severities))
    for column, value in ((Alert.rule_id, f.rule_id), (Alert.owner, f.owner), (Alert.rule_group, f.group),
                          (Alert.assignee_id, f.assignee_id), (Alert.tier, f.tier)):
        if value is not None:
            conditions.append(column == value)
    if f.overdue is not None:
        late = sa.or_(Alert.overdue_ack, Alert.overdue_resolve)
        conditions.append(late if f.overdue else sa.not_(late))
    if f.ids is not None:
        conditions.append(Alert.id.in_(f.ids))
    return conditions


def list_alerts(uow: UnitOfWork, actor: Actor, f: AlertFilter, limit: int = 50, offset: int = 0
                ) -> tuple[list[Alert], int]:
    check_reader(actor)
    f.check()
    stmt = sa.select(Alert).where(*filter_conditions(f))
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    name = f.sort.removeprefix("-")
    key = _SEVERITY_ORDER if name == "severity" else SORTS[name]
    order = key.desc() if f.sort.startswith("-") else key.asc()
    rows = uow.session.scalars(stmt.order_by(order.nulls_last(), Alert.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def get_alert(uow: UnitOfWork, actor: Actor, alert_id: int, *, lock: bool = False) -> Alert:
    check_reader(actor)
    alert = uow.session.get(Alert, alert_id, with_for_update=lock)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    reports: list[Report]
    events: list[AlertEvent]
    suppressions: list[AlertSuppression]


def alert_detail(uow: UnitOfWork, actor: Actor, alert_id: int, report_limit: int = 200) -> AlertDetail:
    alert = get_alert(uow, actor, alert_id)
    s = uow.session
    reports = list(s.scalars(sa.select(Report).join(AlertReport, AlertReport.report_id == Report.report_id)
                             .where(AlertReport.alert_id == alert_id).order_by(Report.reported_at.desc())
                             .limit(report_limit)))
    events = list(s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)))
    held = list(s.scalars(sa.select(AlertSuppression).where(
        sa.or_(AlertSuppression.alert_id == alert_id,
               sa.and_(AlertSuppression.rule_id == alert.rule_id, AlertSuppression.group_key == alert.group_key)))
        .order_by(AlertSuppression.id)))
    return AlertDetail(alert, reports, events, held)


def alerts_for_application(uow: UnitOfWork, actor: Actor, application_id: int, limit: int = 20
                           ) -> tuple[list[Alert], int]:
    """The alerts whose linked reports name an application, newest first, and how many there are.

    Found through the linked reports' own application (indexed columns on both databases), not
    by searching the alerts' JSON list of application ids, which neither database indexes."""
    check_reader(actor)
    named = (sa.select(AlertReport.alert_id).join(Report, Report.report_id == AlertReport.report_id)
             .where(Report.application_id == application_id))
    stmt = sa.select(Alert).where(Alert.id.in_(named))
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = uow.session.scalars(stmt.order_by(Alert.id.desc()).limit(limit))
    return list(rows), total


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """What an analyst asks; which fields matter depends on ``action`` (checked in ``act``)."""

    action: str
    comment: str | None = None
    reason: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    tier_review: bool = False
    jurisdiction: str | None = None
    label_reports: str | None = None  # scam / not_scam / leave (resolve: scam, false positive: not_scam)
    scam_type: str | None = None
    mute_days: int | None = None  # false positive: silence the key this long (default 7)


def act(uow: UnitOfWork, actor: Actor, alert_id: int, request: Action, notifier: Notifier,
        now: datetime | None = None) -> Alert:
    """One analyst action on one alert: the transition, the timeline, the audit trail, and
    whatever follows (labels, a mute, a tier review, notifications)."""
    _triage(actor)
    now = now or utcnow()
    _check_fields(uow, request)
    alert = get_alert(uow, actor, alert_id, lock=True)
    before = {"state": alert.state, "assignee_id": alert.assignee_id}
    try:
        after = triage.next_state(request.action, alert.state, alert.acknowledged_at is not None)
    except triage.TransitionRefused as exc:
        raise Conflict(str(exc)) from None
    data: dict[str, Any] = {}
    if request.action == "acknowledge":
        alert.acknowledged_at = now
    elif request.action == "escalate":
        alert.escalated_at = now
        if request.tier_review:
            data["tier_review_id"] = alert.tier_review_id = _tier_review(uow, actor, alert, request)
    elif request.action in triage.VERDICTS:
        alert.verdict, alert.closed_at = triage.VERDICTS[request.action], now
        data["labelled"] = _label(uow, actor, alert, request)
        if request.action == "false_positive":
            data["silence_id"] = _mute(uow, actor, alert, request, now)
    elif request.action == "reopen":
        if uow.session.scalar(sa.select(Alert.id).where(Alert.dedup_key == alert.dedup_key, Alert.group_key ==
                                                        alert.group_key, Alert.state.in_(LIVE_STATES))):
            raise Conflict("a newer alert for the same key is live: work on that one")
        alert.verdict = alert.closed_at = alert.cleared_at = None
        alert.reopen_count += 1
    elif request.action == "assign":
        alert.assignee_id = None if request.unassign else request.assignee_id
        data["assignee_id"] = alert.assignee_id
    if request.comment:
        data["comment"] = request.comment
    if request.reason:
        data["reason"] = request.reason
    alert.state, alert.updated_at, alert.version = after, now, alert.version + 1
    event = AlertEvent(alert_id=alert.id, at=now, actor=actor.label[:200], actor_id=actor.user_id,
                       action=_EVENT_NAMES.get(request.action, request.action), data=data)
    uow.session.add(event)
    uow.session.flush()
    audit.record(uow, actor, f"alert.{request.action}", "alert", alert.id,
                 changes={**audit.diff(before, {"state": alert.state, "assignee_id": alert.assignee_id}), **data},
                 reason=request.reason or request.comment)
    if request.action in ("escalate", "reopen"):
        notifier.event(uow.session, alert, "escalated" if request.action == "escalate" else "reopened", event.id, now)
    notifier.changed(uow.session, alert.id, now)
    return alert


_EVENT_NAMES = {"acknowledge": "acknowledged", "escalate": "escalated", "resolve": "resolved",
                "false_positive": "false_positive", "reopen": "reopened_by_hand", "assign": "assigned",
                "comment": "commented"}


def _check_fields(uow: UnitOfWork, r: Action) -> None:
    errors: list[dict[str, str]] = []
    if r.action not in triage.ACTIONS:
        errors.append({"field": "action", "message": f"one of {', '.join(triage.ACTIONS)}"})
    if r.action == "comment" and not (r.comment or "").strip():
        errors.append({"field": "comment", "message": "write the comment"})
    if r.action in ("reopen", "false_positive") and not (r.reason or "").strip():
        errors.append({"field": "reason", "message": f"a reason is required to {r.action.replace('_', ' ')}"})
    if r.action == "assign" and r.assignee_id is None and not r.unassign:
        errors.append({"field": "assignee_id", "message": "name the analyst (or unassign: true)"})
    if r.action == "assign" and r.assignee_id is not None:
        user = uow.session.get(User, r.assignee_id)
        if user is None or not user.is_active or user.role not in REGULATOR_ROLES:
            errors.append({"field": "assignee_id", "message": "no active analyst, regulator or administrator with this id"})
    if r.label_reports is not None and r.label_reports not in LABEL_CHOICES:
        errors.append({"field": "label_reports", "message": f"one of {', '.join(LABEL_CHOICES)}"})
    if r.mute_days is not None and not 0 <= r.mute_days <= 30:
        errors.append({"field": "mute_days", "message": "between 0 and 30"})
    if errors:
        raise Invalid(errors)


def _label(uow: UnitOfWork, actor: Actor, alert: Alert, r: Action) -> int:
    """Verdicts become training labels on the alert's scam reports: resolve -> scam, false
    positive -> not a scam, unless the analyst says otherwise ("leave": no labels)."""
    choice = r.label_reports or ("scam" if r.action == "resolve" else "not_scam")
    if choice == "leave":
        return 0
    ids = list(uow.session.scalars(sa.select(AlertReport.report_id).join(Report, Report.report_id == AlertReport.report_id)
                                   .where(AlertReport.alert_id == alert.id, Report.kind == "scam")))
    note = f"alert #{alert.id} ({alert.rule_id}): {triage.VERDICTS[r.action]}"
    return add_labels(uow, ids, choice == "scam", actor.label, scam_type=r.scam_type if choice == "scam" else None,
                      note=note)


def _mute(uow: UnitOfWork, actor: Actor, alert: Alert, r: Action, now: datetime) -> int | None:
    days = FALSE_POSITIVE_MUTE.days if r.mute_days is None else r.mute_days
    if days == 0:
        return None
    silence = AlertSilence(rule_id=alert.rule_id, group_key=alert.group_key, owner_id=actor.user_id,
                           owner=actor.label[:200], reason=f"false positive (alert #{alert.id}): {r.reason}",
                           starts_at=now, expires_at=now + timedelta(days=days))
    uow.session.add(silence)
    uow.session.flush()
    return silence.id


def _tier_review(uow: UnitOfWork, actor: Actor, alert: Alert, r: Action) -> int:
    apps = [int(a) for a in alert.application_ids if str(a).isdigit()]
    if not apps:
        raise Invalid.one("tier_review", "this alert is not linked to a registered application")
    reason = r.reason or r.comment or f"alert #{alert.id}: {alert.summary.get('zh', '')}"
    review = reviews.open_review(uow, actor, apps[0], reason, alert_id=alert.id, jurisdiction=r.jurisdiction)
    return review.id


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def bulk(uow: UnitOfWork, actor: Actor, alert_ids: Sequence[int], request: Action, notifier: Notifier,
         now: datetime | None = None) -> BulkResult:
    """The same action on several alerts, each with its own timeline and audit entry. An alert
    in a state that does not allow it is listed as refused; the others are done."""
    _triage(actor)
    if request.action not in BULK_ACTIONS:
        raise Invalid.one("action", f"bulk actions: {', '.join(BULK_ACTIONS)}")
    if not alert_ids or len(alert_ids) > 500:
        raise Invalid.one("ids", "between 1 and 500 alert ids")
    _check_fields(uow, request)
    result = BulkResult()
    for alert_id in dict.fromkeys(alert_ids):
        try:
            act(uow, actor, alert_id, request, notifier, now)
            result.done.append(alert_id)
        except (Conflict, NotFound) as exc:
            result.refused[alert_id] = str(exc)
    return result


# --- silences ----------------------------------------------------------------------------------


def create_silence(uow: UnitOfWork, actor: Actor, *, reason: str, expires_at: datetime, rule_id: str | None = None,
                   group_key: str | None = None, starts_at: datetime | None = None,
                   known_rules: set[str] | None = None) -> AlertSilence:
    _triage(actor)
    now = utcnow()
    starts = starts_at or now
    errors = []
    if not (reason or "").strip():
        errors.append({"field": "reason", "message": "say why the alerts are silenced"})
    if rule_id is None and group_key is None:
        errors.append({"field": "rule_id", "message": "silence a rule, a key, or a key of a rule"})
    if rule_id is not None and known_rules is not None and rule_id not in known_rules:
        errors.append({"field": "rule_id", "message": f"no alert rule {rule_id!r}"})
    if expires_at <= starts:
        errors.append({"field": "expires_at", "message": "must be after the start"})
    elif expires_at - starts > MAX_SILENCE:
        errors.append({"field": "expires_at", "message": "a silence lasts at most 30 days"})
    if errors:
        raise Invalid(errors)
    silence = AlertSilence(rule_id=rule_id, group_key=group_key, owner_id=actor.user_id, owner=actor.label[:200],
                           reason=reason.strip(), starts_at=starts, expires_at=expires_at)
    uow.session.add(silence)
    uow.session.flush()
    audit.record(uow, actor, "alert.silence", "alert_silence", silence.id, reason=silence.reason,
                 changes={"rule_id": rule_id, "group_key": group_key, "starts_at": starts, "expires_at": expires_at})
    return silence


def list_silences(uow: UnitOfWork, actor: Actor, *, active_only: bool = True) -> list[AlertSilence]:
    check_reader(actor)
    stmt = sa.select(AlertSilence).order_by(AlertSilence.id.desc())
    if active_only:
        stmt = stmt.where(AlertSilence.revoked_at.is_(None), AlertSilence.expires_at > utcnow())
    return list(uow.session.scalars(stmt.limit(500)))


def revoke_silence(uow: UnitOfWork, actor: Actor, silence_id: int) -> AlertSilence:
    _triage(actor)
    silence = uow.session.get(AlertSilence, silence_id, with_for_update=True)
    if silence is None:
        raise NotFound(f"silence {silence_id} not found")
    if silence.revoked_at is not None:
        raise Conflict("the silence was already lifted")
    silence.revoked_at, silence.revoked_by = utcnow(), actor.label[:200]
    audit.record(uow, actor, "alert.silence_lift", "alert_silence", silence.id,
                 changes={"revoked_at": silence.revoked_at})
    return silence


# --- run records and the SLA clock ------------------------------------------------------------


def list_runs(uow: UnitOfWork, actor: Actor, *, rule_id: str | None = None, errors_only: bool = False,
              limit: int = 100, offset: int = 0) -> list[AlertRun]:
    check_reader(actor)
    stmt = sa.select(AlertRun).order_by(AlertRun.id.desc()).limit(limit).offset(offset)
    if rule_id:
        stmt = stmt.where(AlertRun.rule_id == rule_id)
    if errors_only:
        stmt = stmt.where(AlertRun.error.isnot(None))
    return list(uow.session.scalars(stmt))


def mark_overdue(uow: UnitOfWork, notifier: Notifier, now: datetime) -> int:
    """Alerts past their SLA are marked overdue (once per clock) and notified once."""
    stmt = sa.select(Alert).where(Alert.state.in_(("open", "acknowledged", "escalated")), sa.or_(
        sa.and_(Alert.overdue_ack.is_(False), Alert.acknowledged_at.is_(None), Alert.ack_due_at < now),
        sa.and_(Alert.overdue_resolve.is_(False), Alert.resolve_due_at < now))).with_for_update(skip_locked=True)
    marked = 0
    for alert in uow.session.scalars(stmt):
        late_ack, late_resolve = triage.overdue(alert.state, alert.acknowledged_at, alert.ack_due_at,
                                                alert.resolve_due_at, now)
        for clock, late in (("ack", late_ack), ("resolve", late_resolve)):
            if late and not getattr(alert, f"overdue_{clock}"):
                setattr(alert, f"overdue_{clock}", True)
                event = AlertEvent(alert_id=alert.id, at=now, actor="system:sla", actor_id=None,
                                   action=f"overdue_{clock}", data={"due": getattr(alert, f"{clock}_due_at").isoformat()})
                uow.session.add(event)
                uow.session.flush()
                notifier.event(uow.session, alert, f"overdue_{clock}", event.id, now)
                marked += 1
        alert.updated_at = now
        notifier.changed(uow.session, alert.id, now)
    return marked
