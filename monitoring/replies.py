"""The right of reply: when scam reports name a company's registered application, the company
is told in its portal and can answer on the record; the regulator reads the answer beside the
reports.

What the company is shown is aggregate only (how many reports, when, through which channels, of
which scam types): report texts and tracking codes are the citizens' and never leave the
regulator side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import CHINA_TZ
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.monitoring.models import CompanyReply, Report
from tierwatch.registry import audit
from tierwatch.registry.models import Application

WINDOW_DAYS = 30
MIN_REPLY, MAX_REPLY = 10, 4000


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


def month_key(when: datetime) -> str:
    local = when.astimezone(CHINA_TZ)
    return f"{local.year}-{local.month:02d}"


def notices(uow: UnitOfWork, actor: Actor, now: datetime, days: int = WINDOW_DAYS) -> list[Notice]:
    """The company's registered applications named in scam reports of the last ``days`` days."""
    if actor.role != "company" or actor.company_id is None:
        raise Forbidden("notices are a company's")
    since = now - timedelta(days=days)
    rows = uow.session.execute(
        sa.select(Application.id, Application.name, Application.filing_number, Report.reported_at, Report.channel,
                  Report.scam_type)
        .join(Report, Report.application_id == Application.id)
        .where(Application.company_id == actor.company_id, Application.filing_number.is_not(None),
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
                CompanyReply.application_id.in_(found), CompanyReply.created_at >= since).order_by(CompanyReply.id)):
            found[reply.application_id].replies.append(reply)
    return sorted(found.values(), key=lambda n: -n.reports)


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
