"""The regulator's review queue: filings whose current assessment carries review flags.

A flag never moves a tier; it says why a person should look (a question the law turns on left
unanswered, text that suggests a practice the answers deny, an exemption claimed, a score one
point below high ...) and carries the evidence. The queue lists current assessments with flags
nobody cleared yet; a regulator clears them with a note (audited). A re-tiering that shows the
same flags on the same version keeps the clearance; new or different flags put the filing back.

Not to be confused with tier reviews (risk.reviews, raised from alerts): those ask a regulator
to reconsider a tier; these flags come from the rules themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Forbidden, Invalid, NotFound
from tierwatch.registry import audit
from tierwatch.registry.models import Application, ApplicationVersion, Company
from tierwatch.registry.service import version_fields
from tierwatch.risk.models import MIN_JUSTIFICATION, RiskAssessment, RuleSetVersion
from tierwatch.risk.service import compiled_version
from tierwatch.risk.stored import shown_flags

READERS = ("regulator", "analyst", "admin", "system")
CLEARERS = ("regulator", "admin", "system")


@dataclass(frozen=True)
class QueueItem:
    assessment_id: int
    application_id: int
    application_version_id: int
    name: str
    company: str
    jurisdiction: str
    tier: str
    computed_tier: str
    flags: list[dict[str, Any]]  # id, kind, message (zh, en), fields, evidence, values of the fields
    assessed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"assessment_id": self.assessment_id, "application_id": self.application_id,
                "application_version_id": self.application_version_id, "name": self.name,
                "company": self.company, "jurisdiction": self.jurisdiction, "tier": self.tier,
                "computed_tier": self.computed_tier, "flags": self.flags,
                "assessed_at": self.assessed_at.isoformat()}


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int
    by_kind: dict[str, int]  # flag kind -> filings in the (filtered) queue with such a flag


def review_queue(uow: UnitOfWork, actor: Actor, jurisdiction: str | None = None, kind: str | None = None,
                 limit: int = 50, offset: int = 0) -> Queue:
    """Flagged, not yet cleared current assessments, oldest first (the order work is done in).
    `kind` keeps filings with at least one flag of that kind (e.g. text_contradicts_answer)."""
    if actor.role not in READERS:
        raise Forbidden("only regulators and analysts see the review queue")
    stmt = (sa.select(RiskAssessment, Application.name, Company.name)
            .join(Application, Application.id == RiskAssessment.application_id)
            .join(Company, Company.id == Application.company_id)
            .where(RiskAssessment.is_current, RiskAssessment.flag_count > 0,
                   RiskAssessment.flags_reviewed_at.is_(None)))
    if jurisdiction:
        stmt = stmt.where(RiskAssessment.jurisdiction == jurisdiction)
    rows = uow.session.execute(stmt.order_by(RiskAssessment.created_at, RiskAssessment.id)).all()
    # Flags are JSON, filtered here: the queue is a few thousand rows at most, and JSON
    # containment differs between SQLite and PostgreSQL.
    kept = [r for r in rows if kind is None or any(f["kind"] == kind for f in r[0].flags)]
    by_kind: dict[str, int] = {}
    for r in kept:
        for k in {f["kind"] for f in r[0].flags}:
            by_kind[k] = by_kind.get(k, 0) + 1
    page = kept[offset:offset + limit]
    versions = {v.id: version_fields(v) for v in uow.session.scalars(sa.select(ApplicationVersion).where(
        ApplicationVersion.id.in_([a.application_version_id for a, _n, _c in page])))}
    rule_sets = {r.id: compiled_version(r) for r in uow.session.scalars(sa.select(RuleSetVersion).where(
        RuleSetVersion.id.in_({a.rule_set_version_id for a, _n, _c in page})))}
    items = [QueueItem(a.id, a.application_id, a.application_version_id, name, company, a.jurisdiction,
                       a.tier, a.computed_tier, shown_flags(a.flags, rule_sets[a.rule_set_version_id],
                                                            versions[a.application_version_id]), a.created_at)
             for a, name, company in page]
    return Queue(items, len(kept), by_kind)


def clear_flags(uow: UnitOfWork, actor: Actor, app_id: int, jurisdiction: str, reason: str) -> RiskAssessment:
    """A regulator looked at the flags of an application's current assessment: the filing leaves
    the queue (until a re-tiering shows other flags). The written reason is required and audited."""
    if actor.role not in CLEARERS:
        raise Forbidden("only a regulator clears review flags")
    note = (reason or "").strip()
    if len(note) < MIN_JUSTIFICATION:
        raise Invalid.one("reason", f"a written reason of at least {MIN_JUSTIFICATION} characters is required")
    row = uow.session.scalars(sa.select(RiskAssessment).where(
        RiskAssessment.application_id == app_id, RiskAssessment.jurisdiction == jurisdiction,
        RiskAssessment.is_current)).first()
    if row is None or not row.flag_count:
        raise NotFound(f"no flagged assessment of application {app_id} under {jurisdiction}")
    row.flags_reviewed_at, row.flags_reviewed_by, row.flags_review_note = utcnow(), actor.label, note
    audit.record(uow, actor, "risk.flags_cleared", "application", app_id, reason=note, changes={
        "jurisdiction": jurisdiction, "assessment_id": row.id,
        "flags": sorted(f"{f['id']}:{f['kind']}" for f in row.flags)})
    return row
