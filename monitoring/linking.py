"""Link reports to registered applications by filing number or (normalised) app name, and know
each linked application's risk tier (the search index carries it, so analysts can filter reports
about high-risk applications)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tierwatch.monitoring.identifiers import normalise_app_name
from tierwatch.registry.models import Application, ApplicationVersion
from tierwatch.risk.models import RiskAssessment
from tierwatch.risk.ruleset import TIER_RANK

# Applications that are no longer offered still match: a scam may abuse a withdrawn app's name.
_LINKABLE_STATUSES = ("approved", "superseded", "deregistered", "submitted", "under_review")


@dataclass(frozen=True)
class LinkedApp:
    application_id: int
    name: str
    filing_number: str | None
    tier: str | None = None


def normalise_filing_number(value: str) -> str:
    return "".join(value.split()).upper()


AppRow = tuple[int, str, str | None] | tuple[int, str, str | None, str | None]


def load_applications(session: Session) -> list[AppRow]:
    """(application id, a name it was filed under, filing number, tier) for every linkable
    version; the tier is the strictest one in force under any jurisdiction (None: not tiered)."""
    a, v = Application.__table__, ApplicationVersion.__table__
    stmt = (
        sa.select(a.c.id, v.c.name, a.c.filing_number)
        .join(v, v.c.application_id == a.c.id)
        .where(v.c.status.in_(_LINKABLE_STATUSES))
        .order_by(a.c.id)
    )
    rows = [(i, n, f) for i, n, f in session.execute(stmt)]
    current = sa.select(a.c.id, a.c.name, a.c.filing_number).where(a.c.status.in_(_LINKABLE_STATUSES))
    rows += [(i, n, f) for i, n, f in session.execute(current)]
    tiers = load_tiers(session)
    return [(i, n, f, tiers.get(i)) for i, n, f in rows]


def load_tiers(session: Session, application_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Application id -> the strictest tier of its current assessments (overrides included);
    every application, or only those given."""
    ra = RiskAssessment.__table__
    tiers: dict[int, str] = {}
    stmt = sa.select(ra.c.application_id, ra.c.tier).where(ra.c.is_current)
    if application_ids is not None:
        stmt = stmt.where(ra.c.application_id.in_(list(application_ids)))
    for app_id, tier in session.execute(stmt):
        if app_id not in tiers or TIER_RANK.get(tier, -1) > TIER_RANK.get(tiers[app_id], -1):
            tiers[app_id] = tier
    return tiers


class ApplicationLinker:
    """Name/filing-number lookup over a snapshot of the registry, reloaded every ``ttl`` seconds."""

    def __init__(self, load: Callable[[], Iterable[AppRow]], ttl: float = 60.0):
        self._load = load
        self._ttl = ttl
        self._loaded_at = -float("inf")
        self._by_name: dict[str, LinkedApp] = {}
        self._by_filing: dict[str, LinkedApp] = {}
        self._tiers: dict[int, str] = {}

    def invalidate(self) -> None:
        self._loaded_at = -float("inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl:
            return
        by_name: dict[str, LinkedApp] = {}
        by_filing: dict[str, LinkedApp] = {}
        tiers: dict[int, str] = {}
        for app_id, name, filing, *tier in self._load():
            app = LinkedApp(app_id, name, filing, tier[0] if tier else None)
            if app.tier:
                tiers[app_id] = app.tier
            # The lowest id wins a name clash, so a link never flips between reloads.
            by_name.setdefault(normalise_app_name(name), app)
            if filing:
                by_filing.setdefault(normalise_filing_number(filing), app)
        self._by_name, self._by_filing, self._tiers = by_name, by_filing, tiers
        self._loaded_at = time.monotonic()

    def tier_of(self, application_id: int | None) -> str | None:
        """The linked application's tier as of the last reload (None: not linked or not tiered)."""
        if application_id is None:
            return None
        self._refresh()
        return self._tiers.get(application_id)

    def find(self, *, filing_number: str | None = None, names: Iterable[str] = ()) -> LinkedApp | None:
        self._refresh()
        if filing_number:
            app = self._by_filing.get(normalise_filing_number(filing_number))
            if app is not None:
                return app
        for name in names:
            app = self._by_name.get(normalise_app_name(name))
            if app is not None:
                return app
        return None


def relink_reports(session: Session, limit: int = 5000) -> list[tuple[str, int, str | None]]:
    """Link reports that name an application registered after they arrived; returns each newly
    linked (report id, application id, its tier) so the caller can re-index them."""
    from tierwatch.monitoring.models import Report

    t = Report.__table__
    linker = ApplicationLinker(lambda: load_applications(session))
    rows = session.execute(
        sa.select(t.c.id, t.c.report_id, t.c.app_name, t.c.filing_number)
        .where(t.c.application_id.is_(None), sa.or_(t.c.app_name.isnot(None), t.c.filing_number.isnot(None)))
        .limit(limit)
    ).all()
    updates, linked = [], []
    for row_id, report_id, app_name, filing in rows:
        app = linker.find(filing_number=filing, names=[app_name] if app_name else [])
        if app is not None:
            updates.append({"rid": row_id, "aid": app.application_id})
            linked.append((report_id, app.application_id, app.tier))
    if updates:
        session.execute(
            sa.update(t).where(t.c.id == sa.bindparam("rid")).values(application_id=sa.bindparam("aid")),
            updates,
        )
    return linked
