"""Figures for the regulator's dashboards: tiers by domain and by area, filings over time by
status, the applications most named in scam reports this month, incidents by type and severity.

Plain data out (the web draws the charts). Every figure is one grouped query over indexed
columns, so the page stays fast at 20,000 applications and 200,000 reports (bench/bench_web.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import CHINA_TZ
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden
from tierwatch.monitoring.models import Report
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.registry.regions import area_expression
from tierwatch.risk.models import RiskAssessment

Table = dict[str, dict[str, int]]  # row key -> column key -> count


@dataclass(frozen=True)
class NamedCount:
    application_id: int
    name: str
    filing_number: str | None
    count: int


def _check(actor: Actor) -> None:
    if not actor.is_regulator:
        raise Forbidden("dashboards are the regulator's")


def month_start(now: datetime, months_back: int = 0) -> datetime:
    """The first instant of a month in China time (``months_back`` months before now's)."""
    local = now.astimezone(CHINA_TZ)
    year, month = local.year, local.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=CHINA_TZ)


def tiers_by_domain(uow: UnitOfWork, actor: Actor, jurisdiction: str) -> Table:
    """Current effective tier per filing domain (of the version that was tiered)."""
    _check(actor)
    stmt = (sa.select(ApplicationVersion.domain, RiskAssessment.tier, sa.func.count())
            .join(ApplicationVersion, ApplicationVersion.id == RiskAssessment.application_version_id)
            .where(RiskAssessment.jurisdiction == jurisdiction, RiskAssessment.is_current)
            .group_by(ApplicationVersion.domain, RiskAssessment.tier))
    return _table(uow.session.execute(stmt))


def tiers_by_area(uow: UnitOfWork, actor: Actor, jurisdiction: str) -> Table:
    """Current effective tier per area of the provider (registry.regions)."""
    _check(actor)
    area = area_expression(Company.credit_code).label("area")
    stmt = (sa.select(area, RiskAssessment.tier, sa.func.count())
            .join(Application, Application.id == RiskAssessment.application_id)
            .join(Company, Company.id == Application.company_id)
            .where(RiskAssessment.jurisdiction == jurisdiction, RiskAssessment.is_current)
            .group_by(area, RiskAssessment.tier))
    return _table(uow.session.execute(stmt))


def filings_by_month(uow: UnitOfWork, actor: Actor, now: datetime, months: int = 12) -> tuple[list[str], Table]:
    """(month labels "2026-03", oldest first; {month: {status: applications created then}})."""
    _check(actor)
    starts = [month_start(now, back) for back in range(months - 1, -1, -1)]
    labels = [f"{s.year}-{s.month:02d}" for s in starts]
    # A CASE over the month boundaries: the same SQL on SQLite and PostgreSQL.
    bucket = sa.case(*[(Application.created_at >= start, i) for i, start in reversed(list(enumerate(starts)))],
                     else_=-1).label("bucket")
    stmt = (sa.select(bucket, Application.status, sa.func.count())
            .where(Application.created_at >= starts[0]).group_by(bucket, Application.status))
    out: Table = {label: {} for label in labels}
    for index, status, n in uow.session.execute(stmt):
        if index >= 0:
            out[labels[index]][status] = int(n)
    return labels, out


def most_reported(uow: UnitOfWork, actor: Actor, now: datetime, limit: int = 10) -> list[NamedCount]:
    """Registered applications named in the most scam reports since the month began."""
    _check(actor)
    counted = (sa.select(Report.application_id, sa.func.count().label("n"))
               .where(Report.kind == "scam", Report.reported_at >= month_start(now),
                      Report.application_id.is_not(None))
               .group_by(Report.application_id).order_by(sa.desc("n"), Report.application_id)
               .limit(limit).subquery())
    stmt = (sa.select(Application.id, Application.name, Application.filing_number, counted.c.n)
            .join(counted, counted.c.application_id == Application.id).order_by(counted.c.n.desc(), Application.id))
    return [NamedCount(i, name, number, int(n)) for i, name, number, n in uow.session.execute(stmt)]


def incidents_by_type(uow: UnitOfWork, actor: Actor, now: datetime, days: int = 365) -> Table:
    """Incident reports of the last ``days`` days: {incident type: {severity: count}}."""
    _check(actor)
    stmt = (sa.select(Report.incident_type, Report.severity, sa.func.count())
            .where(Report.kind == "incident", Report.reported_at >= now - timedelta(days=days))
            .group_by(Report.incident_type, Report.severity))
    return _table(uow.session.execute(stmt))


def _table(rows: Iterable[Any]) -> Table:
    out: Table = defaultdict(dict)
    for row, column, n in rows:
        out[row or ""][column or ""] = int(n)
    return dict(out)
