"""Risk tables: rule-set versions, assessments (one current per application and jurisdiction,
with their review flags, findings and margin) and regulator overrides.

Several jurisdictions are active side by side (one active version each), so one registry is
read under two regimes. Partial unique indexes keep "one active version per jurisdiction",
"one current assessment per application and jurisdiction" and "one override in force" true in
the database itself, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.db import Base, created_at, intpk

DRAFT, ACTIVE, RETIRED = "draft", "active", "retired"
MIN_JUSTIFICATION = 20  # characters; 20 Chinese characters already make a sentence


def _where(condition: str) -> dict[str, Any]:
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


class RuleSetVersion(Base):
    __tablename__ = "rule_set_versions"
    __table_args__ = (
        sa.UniqueConstraint("jurisdiction", "version", name="uq_rule_set_versions_jurisdiction_version"),
        sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
        sa.Index("uq_rule_set_versions_active", "jurisdiction", unique=True, **_where("status = 'active'")),
    )

    id: Mapped[intpk]
    jurisdiction: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    edition: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[dict[str, Any]]
    filename: Mapped[str] = mapped_column(sa.String(300))
    source_text: Mapped[str] = mapped_column(sa.Text)
    checksum: Mapped[str] = mapped_column(sa.String(64))
    rule_count: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[created_at]
    created_by: Mapped[str] = mapped_column(sa.String(200))
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(sa.String(200))
    retired_at: Mapped[datetime | None]


class TierOverride(Base):
    __tablename__ = "tier_overrides"
    __table_args__ = (
        sa.CheckConstraint(f"length(justification) >= {MIN_JUSTIFICATION}", name="justification_written"),
        sa.Index("uq_tier_overrides_in_force", "application_id", "jurisdiction", unique=True,
                 **_where("in_force")),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(sa.String(40))
    tier: Mapped[str] = mapped_column(sa.String(20))
    computed_tier: Mapped[str | None] = mapped_column(sa.String(20))  # when it was set
    justification: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(200))
    actor_id: Mapped[int | None]
    created_at: Mapped[created_at]
    in_force: Mapped[bool] = mapped_column(default=True)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(sa.String(200))
    end_reason: Mapped[str | None] = mapped_column(sa.Text)


class RiskAssessment(Base):
    __tablename__ = "risk_assessments"
    __table_args__ = (
        sa.Index("uq_risk_assessments_current", "application_id", "jurisdiction", unique=True,
                 **_where("is_current")),
        sa.Index("ix_risk_assessments_jurisdiction_tier", "jurisdiction", "tier"),
        # The regulator's review queue: current assessments with review flags nobody cleared yet.
        sa.Index("ix_risk_assessments_review_queue", "jurisdiction", "created_at",
                 **_where("is_current AND flag_count > 0 AND flags_reviewed_at IS NULL")),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    application_version_id: Mapped[int] = mapped_column(sa.ForeignKey("application_versions.id"))
    rule_set_version_id: Mapped[int] = mapped_column(sa.ForeignKey("rule_set_versions.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(sa.String(40))
    computed_tier: Mapped[str] = mapped_column(sa.String(20))  # what the rules say
    tier: Mapped[str] = mapped_column(sa.String(20))  # effective: an override in force wins
    score: Mapped[int]
    fired_rules: Mapped[list[Any]]
    obligations: Mapped[list[Any]]  # of the effective tier
    override_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tier_overrides.id"))
    # The rules now say something else than the override in force: a regulator should look.
    disagrees_with_override: Mapped[bool] = mapped_column(default=False)
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    # Review flags (risk.engine.ReviewFlag as dicts: id, kind, message, fields, evidence): why the
    # filing goes to the regulator's queue. They never move the tier.
    flags: Mapped[list[Any]] = mapped_column(default=list)
    flag_count: Mapped[int] = mapped_column(default=0)
    # Compliance gaps with their obligations and deadlines, shown beside the tier.
    findings: Mapped[list[Any]] = mapped_column(default=list)
    # [rule or finding id, exemption id]: what an applied exemption set aside.
    suspended: Mapped[list[Any]] = mapped_column(default=list)
    # Under score combination: where the score sits between thresholds ("2 points from high").
    margin: Mapped[dict[str, Any] | None]
    # A regulator looked at the flags and cleared them (kept while the same version shows the
    # same flags after a re-tiering; new or different flags put the filing back in the queue).
    flags_reviewed_at: Mapped[datetime | None]
    flags_reviewed_by: Mapped[str | None] = mapped_column(sa.String(200))
    flags_review_note: Mapped[str | None] = mapped_column(sa.Text)


class TextMatch(Base):
    """What a rule set's text signals found in one filing text (name, scenario, description),
    keyed by a hash of that text and by the signals' own key (risk.engine.signals_key): a
    re-tiering under rules whose synonym lists did not change reads these instead of matching
    again. Content-addressed, so an edited draft or a text filed twice needs no bookkeeping."""

    __tablename__ = "text_matches"

    signals_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    text_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    matches: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))  # NULL: nothing found
    created_at: Mapped[created_at]


REVIEW_OPEN, REVIEW_DECIDED = "open", "decided"
REVIEW_DECISIONS = ("keep", "override")


class TierReview(Base):
    """A regulator is asked to look at an application's tier again, e.g. because analysts
    escalated an alert about it. ``raised_from_alert_id`` names the alert (monitoring's; no
    foreign key, so tiering does not depend on the monitoring tables)."""

    __tablename__ = "tier_reviews"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'decided')", name="status_known"),
        sa.CheckConstraint("decision IS NULL OR decision IN ('keep', 'override')", name="decision_known"),
        sa.Index("ix_tier_reviews_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    jurisdiction: Mapped[str | None] = mapped_column(sa.String(40))
    tier_at_request: Mapped[str | None] = mapped_column(sa.String(20))
    raised_from_alert_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    raised_by: Mapped[str] = mapped_column(sa.String(200))
    raised_by_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(20), default=REVIEW_OPEN)
    decision: Mapped[str | None] = mapped_column(sa.String(20))
    decided_tier: Mapped[str | None] = mapped_column(sa.String(20))
    override_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tier_overrides.id"))
    decided_by: Mapped[str | None] = mapped_column(sa.String(200))
    decided_by_id: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]
