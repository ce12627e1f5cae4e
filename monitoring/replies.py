"""The right of reply: when scam reports or an alert name a company's registered application, the
company is told in its portal and can answer on the record; the regulator reads the answer beside
the reports, or beside the alert.

What the company is shown is aggregate only (how many reports, when, through which channels, of
which scam types; of an alert, its generated summary with the key masked): report texts, tracking
codes and reporters' contacts are the citizens' and never leave the regulator side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import CHINA_TZ
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.monitoring.alerts.models import Alert, AlertReport
from tierwatch.monitoring.alerts.summary import masked_summary
from tierwatch.monitoring.models import CompanyReply, Report
from tierwatch.registry import audit
from tierwatch.registry.models import Application

WINDOW_DAYS = 30
MIN_REPLY, MAX_REPLY = 10, 4000
# An alert the analysts closed as a false positive, or withdrew, named nobody after all.
HIDDEN_ALERT_STATES = ("false_positive", "withdrawn")


@dataclass
class Notice:
    application_id: int
    name: str
    filing_number: str | None
    reports: int
    first: datetime
    last: datetime
    channels: Counter[str] = field(default_factory=Counter)
    scam_types: Counter[str] = field(default_factory=Counter)
    replies: list[CompanyReply] = field(default_factory=list)


@dataclass
class AlertNotice:
    """One alert naming one of the company's registered applications, as the company may see it."""

    alert_id: int
    application_id: int
    name: str
    filing_number: str | None
    title: dict[str, str]
    summary: dict[str, str]  # the key (a phone number, an account) masked
    opened_at: datetime | None
    reports: int  # the alert's linked reports that name this application
    first: datetime
    last: datetime
    channels: Counter[str] = field(default_factory=Counter)
    scam_types: Counter[str] = field(default_factory=Counter)
    replies: list[CompanyReply] = field(default_factory=list)


def month_key(when: datetime) -> str:
    local = when.astimezone(CHINA_TZ)
    return f"{local.year}-{local.month:02d}"


def notices(uow: UnitOfWork, actor: Actor, now: datetime, days: int = WINDOW_DAYS) -> list[Notice]:
    """The company's registered applications named in scam reports of the last ``days`` days."""
    company_id = _company(actor)
    since = now - timedelta(days=days)
    rows = uow.session.execute(
        sa.select(Application.id, Application.name, Application.filing_number, Report.reported_at, Report.channel,
                  Report.scam_type)
        .join(Report, Report.application_id == Application.id)
        .where(Application.company_id == company_id, Application.filing_number.is_not(None),
               Report.kind == "scam", Report.reported_at >= since)
        .order_by(Report.reported_at))
    found: dict[int, Notice] = {}
    for app_id, name, number, at, channel, scam_type in rows:
        notice = found.setdefault(app_id, Notice(app_id, name, number, 0, at, at))
        notice.reports += 1
        notice.last = at
        if channel:
            notice.channels[channel] += 1
        if scam_type:
            notice.scam_types[scam_type] += 1
    if found:
        for reply in uow.session.scalars(sa.select(CompanyReply).where(
                CompanyReply.application_id.in_(found), CompanyReply.subject != "alert",
                CompanyReply.created_at >= since).order_by(CompanyReply.id)):
            found[reply.application_id].replies.append(reply)
    return sorted(found.values(), key=lambda n: -n.reports)


def _company(actor: Actor) -> int:
    if actor.role != "company" or actor.company_id is None:
        raise Forbidden("notices are a company's")
    return actor.company_id


def _alert_rows(company_id: int, since: datetime | None = None, alert_id: int | None = None,
                application_id: int | None = None) -> sa.Select[Any]:
    """The linked reports of shown alerts that name the company's registered applications."""
    stmt = (sa.select(Alert.id, Application.id, Application.name, Application.filing_number, Report.reported_at,
                      Report.channel, Report.scam_type)
            .join(AlertReport, AlertReport.alert_id == Alert.id)
            .join(Report, Report.report_id == AlertReport.report_id)
            .join(Application, Application.id == Report.application_id)
            .where(Application.company_id == company_id, Application.filing_number.is_not(None),
                   Alert.opened_at.is_not(None), Alert.state.not_in(HIDDEN_ALERT_STATES)))
    if since is not None:
        stmt = stmt.where(Alert.last_match_at >= since)
    if alert_id is not None:
        stmt = stmt.where(Alert.id == alert_id)
    if application_id is not None:
        stmt = stmt.where(Application.id == application_id)
    return stmt


def alert_notices(uow: UnitOfWork, actor: Actor, now: datetime, days: int = WINDOW_DAYS) -> list[AlertNotice]:
    """The alerts of the last ``days`` days whose linked reports name the company's registered
    applications: one notice per alert and application, newest alert first."""
    company_id = _company(actor)
    found: dict[tuple[int, int], AlertNotice] = {}
    rows = uow.session.execute(_alert_rows(company_id, since=now - timedelta(days=days)).order_by(Report.reported_at))
    alerts: dict[int, Alert] = {}
    for alert_id, app_id, name, number, at, channel, scam_type in rows:
        notice = found.get((alert_id, app_id))
        if notice is None:
            alert = alerts.get(alert_id) or uow.session.get(Alert, alert_id)
            assert alert is not None
            alerts[alert_id] = alert
            notice = found[(alert_id, app_id)] = AlertNotice(
                alert_id, app_id, name, number, dict(alert.title),
                masked_summary(alert.summary, alert.group_field, alert.group_key or None), alert.opened_at, 0, at, at)
        notice.reports += 1
        notice.last = at
        if channel:
            notice.channels[channel] += 1
        if scam_type:
            notice.scam_types[scam_type] += 1
    if found:
        answers = sa.select(CompanyReply).where(
            CompanyReply.subject == "alert", CompanyReply.subject_ref.in_({str(a) for a, _ in found}),
            CompanyReply.application_id.in_({app for _, app in found})).order_by(CompanyReply.id)
        for answer in uow.session.scalars(answers):
            notice = found.get((int(answer.subject_ref), answer.application_id))
            if notice is not None:
                notice.replies.append(answer)
    return sorted(found.values(), key=lambda n: (-n.alert_id, n.application_id))


def reply_to_alert(uow: UnitOfWork, actor: Actor, application_id: int, alert_id: int, text: str,
                   now: datetime) -> CompanyReply:
    """The company's answer, on the record, about one alert naming its application. An alert
    the company is not shown (another company's, a false positive, not yet opened) is not found."""
    if actor.role != "company" or actor.company_id is None or uow.session.execute(
            _alert_rows(actor.company_id, alert_id=alert_id, application_id=application_id).limit(1)).first() is None:
        raise NotFound(f"alert {alert_id} not found")
    return reply(uow, actor, application_id, text, now, subject="alert", subject_ref=str(alert_id))


def reply(uow: UnitOfWork, actor: Actor, application_id: int, text: str, now: datetime,
          subject: str = "reports", subject_ref: str | None = None) -> CompanyReply:
    """The company's answer, on the record (audited), about the reports naming its application."""
    app = uow.session.get(Application, application_id)
    if app is None or actor.role != "company" or app.company_id != actor.company_id:
        raise NotFound(f"application {application_id} not found")
    text = (text or "").strip()
    if not MIN_REPLY <= len(text) <= MAX_REPLY:
        raise Invalid([{"field": "text", "message": f"between {MIN_REPLY} and {MAX_REPLY} characters",
                        "code": "reply.length"}])
    answer = CompanyReply(application_id=app.id, company_id=app.company_id, subject=subject,
                          subject_ref=subject_ref or month_key(now), text=text, created_by_id=actor.user_id)
    uow.session.add(answer)
    uow.session.flush()
    audit.record(uow, actor, "application.reply", "application", app.id, reason=text,
                 changes={"reply_id": answer.id, "subject": subject, "subject_ref": answer.subject_ref})
    return answer


def replies_for(uow: UnitOfWork, actor: Actor, application_id: int, limit: int = 20) -> list[CompanyReply]:
    """An application's replies, newest first: the regulator side, or the company itself."""
    app = uow.session.get(Application, application_id)
    if app is None or not (actor.is_regulator or app.company_id == actor.company_id):
        raise NotFound(f"application {application_id} not found")
    stmt = (sa.select(CompanyReply).where(CompanyReply.application_id == application_id)
            .order_by(CompanyReply.id.desc()).limit(limit))
    return list(uow.session.scalars(stmt))
