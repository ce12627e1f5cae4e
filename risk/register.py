"""The public register: approved applications with their provider, filing number, date, domain,
tier under each regime and the public part of the obligations that come with it — what the CAC's
filing lists and the EU database publish. Nothing here needs an actor: it is public by design,
and it shows only what filings publish (no contact details, no internal monitoring levels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import NotFound
from tierwatch.registry import workflow
from tierwatch.registry.models import Application, Company
from tierwatch.registry.service import effective_version
from tierwatch.risk.models import RiskAssessment

# Obligations the regulator keeps to itself: how tight a provider's alert thresholds are says
# how closely it is watched, which is the regulator's business (and a scammer's interest).
INTERNAL_OBLIGATIONS = frozenset({"alert_thresholds"})
_PUBLIC_OBLIGATION_KEYS = ("kind", "every", "within", "note")


@dataclass(frozen=True)
class PublicTier:
    jurisdiction: str
    tier: str
    obligations: tuple[dict[str, Any], ...]  # {kind, every?, within?, note?: {zh, en}}


@dataclass(frozen=True)
class RegisteredApp:
    id: int
    name: str
    provider: str
    filing_number: str
    filed_at: datetime | None
    domain: str | None
    scenario: str | None
    tiers: tuple[PublicTier, ...]


def _listed() -> sa.Select[Any]:
    # An approved filing stays listed while an amendment is reviewed (its status then says
    # "submitted"); a deregistered one is gone.
    return (sa.select(Application).join(Company, Company.id == Application.company_id)
            .where(Application.filing_number.isnot(None), Application.deregistered_at.is_(None),
                   Application.status != workflow.DEREGISTERED))


def search(uow: UnitOfWork, q: str | None = None, *, limit: int = 20, offset: int = 0) -> tuple[list[RegisteredApp], int]:
    """Listed applications whose name, provider or filing number contains ``q`` (literally),
    most recently filed first, and how many match."""
    stmt = _listed()
    text = (q or "").strip()
    if text:
        stmt = stmt.where(sa.or_(Application.name.contains(text, autoescape=True),
                                 Company.name.contains(text, autoescape=True),
                                 Application.filing_number.contains(text, autoescape=True)))
    total = uow.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = uow.session.scalars(
        stmt.options(selectinload(Application.versions), selectinload(Application.company))
        .order_by(Application.approved_at.desc().nulls_last(), Application.id.desc()).limit(limit).offset(offset))
    return _public(uow, list(rows)), total


def get(uow: UnitOfWork, app_id: int) -> RegisteredApp:
    found = uow.session.scalars(_listed().where(Application.id == app_id)).first()
    if found is None:
        raise NotFound(f"application {app_id} is not in the public register")
    return _public(uow, [found])[0]


def by_ids(uow: UnitOfWork, app_ids: Sequence[int]) -> list[RegisteredApp]:
    """The listed ones among ``app_ids``, in that order."""
    if not app_ids:
        return []
    rows = {a.id: a for a in uow.session.scalars(_listed().where(Application.id.in_(list(app_ids))))}
    return _public(uow, [rows[i] for i in app_ids if i in rows])


def _public(uow: UnitOfWork, apps: list[Application]) -> list[RegisteredApp]:
    tiers: dict[int, list[PublicTier]] = {}
    if apps:
        assessments = uow.session.scalars(
            sa.select(RiskAssessment).where(RiskAssessment.application_id.in_([a.id for a in apps]),
                                            RiskAssessment.is_current)
            .order_by(RiskAssessment.jurisdiction))
        for row in assessments:
            tiers.setdefault(row.application_id, []).append(
                PublicTier(row.jurisdiction, row.tier, public_obligations(row.obligations)))
    out = []
    for app in apps:
        version = effective_version(app)
        out.append(RegisteredApp(
            id=app.id, name=version.name if version else app.name, provider=app.company.name,
            filing_number=str(app.filing_number), filed_at=app.approved_at,
            domain=version.domain if version else None, scenario=version.scenario if version else None,
            tiers=tuple(tiers.get(app.id, ()))))
    return out


def public_obligations(obligations: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The obligations a provider's users may know of, with what the public may read of each
    (not a spot check's sampling rate, nor an alert level)."""
    out, seen = [], set()
    for item in obligations:
        kind = item.get("kind")
        if not kind or kind in INTERNAL_OBLIGATIONS or kind in seen:
            continue
        seen.add(kind)
        out.append({k: item[k] for k in _PUBLIC_OBLIGATION_KEYS if item.get(k) is not None})
    return tuple(out)
