"""The regulator's review queue: filings waiting for a decision, with their tiers, filtered by
status, tier, domain, area and age, with counts per status.

It reads the registry and the stored assessments (hence here, in tiering, which may read the
registry). Only the regulator side sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden
from tierwatch.registry import workflow
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.registry.regions import area_filter, area_of
from tierwatch.risk.models import RiskAssessment

WAITING = (workflow.SUBMITTED, workflow.UNDER_REVIEW)


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None  # None: every status waiting for the regulator
    tier: str | None = None  # the tier under `jurisdiction`, or under any regime
    jurisdiction: str | None = None
    domain: str | None = None
    area: str | None = None  # registry.regions code (a Guangdong city or a province)
    min_age_days: int | None = None  # submitted at least this many days ago
    q: str | None = None  # in the name or the filing number


@dataclass
class QueueRow:
    application_id: int
    name: str
    company: str
    area: str | None
    status: str
    version: int
    domain: str | None
    submitted_at: datetime | None
    filing_number: str | None
    tiers: dict[str, str] = field(default_factory=dict)  # jurisdiction -> effective tier


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    counts: dict[str, int]  # status -> applications matching the other filters


def _latest(statuses: tuple[str, ...] | None) -> Any:
    """(application id, latest version number) of the applications in ``statuses`` (all when
    None): one aggregate joined back is cheaper than a correlated look-up per row, and limiting
    it to the statuses asked for keeps it to the queue's few thousand (EXPLAIN at 20,000)."""
    stmt = sa.select(ApplicationVersion.application_id.label("app_id"),
                     sa.func.max(ApplicationVersion.number).label("number"))
    if statuses is not None:
        stmt = stmt.where(ApplicationVersion.application_id.in_(
            sa.select(Application.id).where(Application.status.in_(statuses))))
    return stmt.group_by(ApplicationVersion.application_id).subquery("latest")


def _filtered(f: QueueFilter, now: datetime, *columns: Any, versions: bool = False,
              companies: bool = False, statuses: tuple[str, ...] | None = None) -> sa.Select[Any]:
    """Applications matching every filter but the status; the version and company tables are
    joined only when a filter or a column needs them (the counts usually need neither)."""
    stmt = sa.select(Application.id, *columns).select_from(Application)
    if versions or f.domain or f.min_age_days:
        latest = _latest(statuses)
        stmt = (stmt.join(latest, latest.c.app_id == Application.id)
                .join(ApplicationVersion, sa.and_(ApplicationVersion.application_id == Application.id,
                                                  ApplicationVersion.number == latest.c.number)))
    if companies or f.area:
        stmt = stmt.join(Company, Company.id == Application.company_id)
    if f.domain:
        stmt = stmt.where(ApplicationVersion.domain == f.domain)
    if f.area:
        stmt = stmt.where(area_filter(Company.credit_code, f.area))
    if f.min_age_days:
        stmt = stmt.where(ApplicationVersion.submitted_at <= now - timedelta(days=f.min_age_days))
    if f.q:
        stmt = stmt.where(sa.or_(Application.name.contains(f.q, autoescape=True),
                                 Application.filing_number.contains(f.q, autoescape=True)))
    if f.tier:
        tiered = sa.select(RiskAssessment.id).where(
            RiskAssessment.application_id == Application.id, RiskAssessment.is_current,
            RiskAssessment.tier == f.tier)
        if f.jurisdiction:
            tiered = tiered.where(RiskAssessment.jurisdiction == f.jurisdiction)
        stmt = stmt.where(tiered.exists())
    return stmt


def review_queue(uow: UnitOfWork, actor: Actor, f: QueueFilter, now: datetime, *, limit: int = 50,
                 offset: int = 0) -> QueuePage:
    if not actor.is_regulator:
        raise Forbidden("the review queue is the regulator's")
    statuses = (f.status,) if f.status else WAITING
    session = uow.session
    by_status = _filtered(f, now, Application.status).subquery()
    counts = dict.fromkeys(workflow.STATUSES, 0)
    counts.update({s: int(n) for s, n in session.execute(
        sa.select(by_status.c.status, sa.func.count()).group_by(by_status.c.status))})
    total = sum(counts[s] for s in statuses)
    stmt = (_filtered(f, now, Application.name, Company.name, Company.credit_code, Application.status,
                      ApplicationVersion.number, ApplicationVersion.domain, ApplicationVersion.submitted_at,
                      Application.filing_number, versions=True, companies=True, statuses=statuses)
            .where(Application.status.in_(statuses))
            .order_by(ApplicationVersion.submitted_at.asc().nulls_last(), Application.id)
            .limit(limit).offset(offset))
    rows = [QueueRow(app_id, name, company, area_of(code), status, number, domain, submitted, filing)
            for app_id, name, company, code, status, number, domain, submitted, filing in session.execute(stmt)]
    if rows:
        by_id = {r.application_id: r for r in rows}
        for app_id, jurisdiction, tier in session.execute(
                sa.select(RiskAssessment.application_id, RiskAssessment.jurisdiction, RiskAssessment.tier)
                .where(RiskAssessment.application_id.in_(by_id), RiskAssessment.is_current)):
            by_id[app_id].tiers[jurisdiction] = tier
    return QueuePage(rows, total, counts)
