"""Tables of the public side: publications (warnings and de-identified case stories) and the
reports that fed them, and disputes of a checked identifier.

A publication is drafted (by an analyst from an alert, or by a regulator), published by a
regulator and may be withdrawn; only published ones are ever shown to the public. A dispute's
contact details are private, as a reporter's are: only the regulator deciding it sees them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.clock import utcnow
from tierwatch.core.db import Base, created_at, intpk

WARNING, CASE_STORY = "warning", "case_story"
PUBLICATION_KINDS = (WARNING, CASE_STORY)
DRAFT, PUBLISHED, WITHDRAWN = "draft", "published", "withdrawn"
PUBLICATION_STATUSES = (DRAFT, PUBLISHED, WITHDRAWN)

OPEN, UPHELD, REJECTED = "open", "upheld", "rejected"
DISPUTE_STATUSES = (OPEN, UPHELD, REJECTED)
OWNER, NOT_SCAM = "owner", "not_scam"
DISPUTE_RELATIONS = (OWNER, NOT_SCAM)


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('warning', 'case_story')", name="kind"),
        sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status"),
        sa.Index("ix_publications_status_kind_published_at", "status", "kind", "published_at"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default=DRAFT)
    title_zh: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str | None] = mapped_column(sa.String(200))
    summary_zh: Mapped[str] = mapped_column(sa.String(500))
    summary_en: Mapped[str | None] = mapped_column(sa.String(500))
    body_zh: Mapped[str] = mapped_column(sa.Text)  # Markdown, rendered without raw HTML
    body_en: Mapped[str | None] = mapped_column(sa.Text)
    scam_type: Mapped[str | None] = mapped_column(sa.String(60))
    ai_techniques: Mapped[list[Any]] = mapped_column(default=list)
    # Identifiers a warning is about ("phone:+86…"): the check page shows the warning beside them.
    identifiers: Mapped[list[Any]] = mapped_column(default=list)
    occurred_on: Mapped[date | None] = mapped_column(sa.Date)
    source_alert_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(sa.String(200))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(sa.String(200))
    withdraw_reason: Mapped[str | None] = mapped_column(sa.Text)


class PublicationReport(Base):
    """A report that fed a publication: its reporter's status page says so."""

    __tablename__ = "publication_reports"

    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key: an alert may name a report the worker has not stored yet.
    report_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True, index=True)


class Dispute(Base):
    """"This is not a scam / this is my number": the identifier is shown as disputed until a
    regulator upholds (the reports are set aside) or rejects it (they stand)."""

    __tablename__ = "identifier_disputes"
    __table_args__ = (
        sa.CheckConstraint("relation IN ('owner', 'not_scam')", name="relation"),
        sa.CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status"),
        sa.Index("ix_identifier_disputes_kind_value_status", "kind", "value", "status"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[str] = mapped_column(sa.String(300))
    relation: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    # Private, the deciding regulator's only: sealed like a reporter's (monitoring.contacts).
    sealed_contact: Mapped[str | None] = mapped_column(sa.Text)
    # Pseudonym of who sent it (monitoring.reporters): one open dispute per identifier each.
    submitter_key: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(20), default=OPEN)
    created_at: Mapped[created_at]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(sa.String(200))
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
