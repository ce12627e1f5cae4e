"""Reads of stored reports for the portals: a company's incident reports, an application's
scam reports. Visibility is decided here from the actor."""

from __future__ import annotations

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden
from tierwatch.monitoring.models import Report
from tierwatch.registry.models import Application


def company_incidents(uow: UnitOfWork, actor: Actor, limit: int = 50) -> list[Report]:
    """Incident reports stored under the actor's company's filings, newest first."""
    if actor.role != "company" or actor.company_id is None:
        raise Forbidden("a company's own incident reports")
    apps = sa.select(Application.id).where(Application.company_id == actor.company_id)
    numbers = sa.select(Application.filing_number).where(Application.company_id == actor.company_id,
                                                          Application.filing_number.is_not(None))
    stmt = (sa.select(Report).where(Report.kind == "incident",
                                    sa.or_(Report.application_id.in_(apps), Report.filing_number.in_(numbers)))
            .order_by(Report.reported_at.desc()).limit(limit))
    return list(uow.session.scalars(stmt))


def application_reports(uow: UnitOfWork, actor: Actor, app_id: int, limit: int = 20) -> tuple[list[Report], int]:
    """Reports linked to an application (regulator side): the newest, and how many in all.
    Reporter contacts live elsewhere and are never read here."""
    if not actor.is_regulator:
        raise Forbidden("linked reports are the regulator's to read")
    total = uow.session.scalar(sa.select(sa.func.count()).where(Report.application_id == app_id)) or 0
    stmt = (sa.select(Report).where(Report.application_id == app_id)
            .order_by(Report.reported_at.desc()).limit(limit))
    return list(uow.session.scalars(stmt)), int(total)
