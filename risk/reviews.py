"""Tier reviews: a regulator is asked to look at an application's tier again (analysts escalate
an alert about it), and decides to keep the tier or override it.

Use cases take ``(uow, actor, ...)`` and leave the commit to the caller, as the rest of the
package does. Analysts and regulators may open and read reviews; only a regulator (or an
administrator) decides. Companies never see them.
"""

from __future__ import annotations

import sqlalchemy as sa

from tierwatch.core.actors import Actor
from tierwatch.core.clock import utcnow
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Conflict, Forbidden, Invalid, NotFound
from tierwatch.registry import audit
from tierwatch.registry.models import Application
from tierwatch.risk import service
from tierwatch.risk.models import (
    MIN_JUSTIFICATION, REVIEW_DECIDED, REVIEW_DECISIONS, REVIEW_OPEN, RiskAssessment, TierReview,
)
from tierwatch.risk.ruleset import TIER_RANK

READERS = ("analyst", "regulator", "admin", "system")
DECIDERS = ("regulator", "admin")


def _check(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"only {' or '.join(r for r in roles if r != 'system')} may {what}")


def open_review(uow: UnitOfWork, actor: Actor, application_id: int, reason: str, *,
                alert_id: int | None = None, jurisdiction: str | None = None) -> TierReview:
    """Ask for a review; an open review of the same application and jurisdiction is reused (one
    question, not one per escalated alert). Without a jurisdiction, the one whose tier is the
    strictest (the tier the alert thresholds used) is reviewed."""
    _check(actor, READERS, "ask for a tier review")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid.one("reason", "say why the tier should be reviewed")
    if uow.session.get(Application, application_id) is None:
        raise NotFound(f"application {application_id} not found")
    current = _current_tiers(uow, application_id)
    if jurisdiction is None and current:
        jurisdiction = max(current, key=lambda j: TIER_RANK.get(current[j], -1))
    elif jurisdiction is not None and jurisdiction not in current:
        raise Invalid.one("jurisdiction", f"application {application_id} has no tier under {jurisdiction!r}")
    existing = uow.session.scalars(sa.select(TierReview).where(
        TierReview.application_id == application_id, TierReview.status == REVIEW_OPEN,
        TierReview.jurisdiction.is_(None) if jurisdiction is None else TierReview.jurisdiction == jurisdiction,
    )).first()
    if existing is not None:
        return existing
    review = TierReview(application_id=application_id, jurisdiction=jurisdiction,
                        tier_at_request=current.get(jurisdiction) if jurisdiction else None,
                        raised_from_alert_id=alert_id, reason=reason, raised_by=actor.label,
                        raised_by_id=actor.user_id, status=REVIEW_OPEN)
    uow.session.add(review)
    uow.session.flush()
    audit.record(uow, actor, "risk.review_open", "application", application_id, reason=reason,
                 changes={"review_id": review.id, "jurisdiction": jurisdiction, "alert_id": alert_id,
                          "tier": review.tier_at_request})
    return review


def list_reviews(uow: UnitOfWork, actor: Actor, *, status: str | None = None,
                 application_id: int | None = None, jurisdiction: str | None = None, tier: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[TierReview]:
    """Newest first; ``tier`` is the tier the application had when the review was asked for."""
    _check(actor, READERS, "read tier reviews")
    if status is not None and status not in (REVIEW_OPEN, REVIEW_DECIDED):
        raise Invalid.one("status", f"one of {REVIEW_OPEN}, {REVIEW_DECIDED}")
    stmt = sa.select(TierReview).where(*_conditions(status, application_id, jurisdiction, tier))
    return list(uow.session.scalars(stmt.order_by(TierReview.id.desc()).limit(limit).offset(offset)))


def review_counts(uow: UnitOfWork, actor: Actor, *, jurisdiction: str | None = None,
                  tier: str | None = None) -> dict[str, int]:
    """How many reviews are open and decided, under the same filters as ``list_reviews``."""
    _check(actor, READERS, "read tier reviews")
    rows = uow.session.execute(sa.select(TierReview.status, sa.func.count())
                               .where(*_conditions(None, None, jurisdiction, tier)).group_by(TierReview.status))
    return {REVIEW_OPEN: 0, REVIEW_DECIDED: 0, **{s: n for s, n in rows}}


def _conditions(status: str | None, application_id: int | None, jurisdiction: str | None,
                tier: str | None) -> list[sa.ColumnElement[bool]]:
    wanted = ((TierReview.status, status), (TierReview.application_id, application_id),
              (TierReview.jurisdiction, jurisdiction), (TierReview.tier_at_request, tier))
    return [column == value for column, value in wanted if value is not None]


def get_review(uow: UnitOfWork, actor: Actor, review_id: int) -> TierReview:
    _check(actor, READERS, "read tier reviews")
    review = uow.session.get(TierReview, review_id)
    if review is None:
        raise NotFound(f"tier review {review_id} not found")
    return review


def decide_review(uow: UnitOfWork, actor: Actor, review_id: int, decision: str, comment: str, *,
                  tier: str | None = None, jurisdiction: str | None = None) -> TierReview:
    """Keep the tier, or override it (``tier``; the comment is the override's written
    justification). Audited; an override goes through the override use case (its own audit
    entry, the tier change announced to monitoring)."""
    _check(actor, DECIDERS, "decide a tier review")
    review = uow.session.get(TierReview, review_id, with_for_update=True)
    if review is None:
        raise NotFound(f"tier review {review_id} not found")
    if review.status != REVIEW_OPEN:
        raise Conflict(f"tier review {review_id} was already decided ({review.decision})")
    comment = (comment or "").strip()
    errors: list[dict[str, str]] = []
    if decision not in REVIEW_DECISIONS:
        errors.append({"field": "decision", "message": f"one of {', '.join(REVIEW_DECISIONS)}"})
    if len(comment) < MIN_JUSTIFICATION:
        errors.append({"field": "comment",
                       "message": f"a written comment of at least {MIN_JUSTIFICATION} characters is required"})
    if decision == "override" and not tier:
        errors.append({"field": "tier", "message": "the tier to set is required for an override"})
    where = jurisdiction or review.jurisdiction
    if decision == "override" and where is None:
        errors.append({"field": "jurisdiction", "message": "the application has no tier yet: name the jurisdiction"})
    if errors:
        raise Invalid(errors)
    override_id = None
    if decision == "override":
        assert tier is not None and where is not None
        override_id = service.override_tier(uow, review.application_id, where, tier, comment, actor).id
    review.status, review.decision, review.comment = REVIEW_DECIDED, decision, comment
    review.decided_tier = tier if decision == "override" else review.tier_at_request
    review.jurisdiction, review.override_id = where, override_id
    review.decided_by, review.decided_by_id, review.decided_at = actor.label, actor.user_id, utcnow()
    audit.record(uow, actor, "risk.review_decide", "application", review.application_id, reason=comment,
                 changes={"review_id": review.id, "decision": decision, "jurisdiction": where,
                          "tier": review.decided_tier, "override_id": override_id})
    return review


def _current_tiers(uow: UnitOfWork, application_id: int) -> dict[str, str]:
    rows = uow.session.execute(sa.select(RiskAssessment.jurisdiction, RiskAssessment.tier).where(
        RiskAssessment.application_id == application_id, RiskAssessment.is_current))
    return {j: t for j, t in rows}
