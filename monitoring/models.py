"""Report tables: reports (one row per report_id), their identifiers, campaigns, private contacts.

``reports.report_id`` is UNIQUE: the worker inserts with ON CONFLICT DO NOTHING, so a redelivered
message never makes a second row. Reporter contact details live in ``report_contacts`` only, away
from every column that is indexed or shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.db import Base, created_at, intpk


class Campaign(Base):
    """Reports that share an identifier. ``key`` is that identifier ("phone:+86138…")."""

    __tablename__ = "campaigns"

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(sa.String(320), unique=True)
    report_count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    created_at: Mapped[created_at]


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_kind_reported_at", "kind", "reported_at"),
        sa.CheckConstraint("kind IN ('scam', 'incident')", name="kind"),
    )

    id: Mapped[intpk]
    report_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    tracking_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    schema_version: Mapped[int]
    source: Mapped[str | None] = mapped_column(sa.String(200))
    reporter_type: Mapped[str | None] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[str | None] = mapped_column(sa.String(30))
    amount_lost: Mapped[float | None] = mapped_column(sa.Numeric(16, 2, asdecimal=False))
    ai_technique: Mapped[str | None] = mapped_column(sa.String(40))  # the first of ai_techniques
    ai_techniques: Mapped[list[Any] | None]  # every technique the report names
    payment_method: Mapped[str | None] = mapped_column(sa.String(30))
    # Keyed hash standing for the reporter (monitoring.reporters): counts independent reporters.
    reporter_key: Mapped[str | None] = mapped_column(sa.String(32))
    app_name: Mapped[str | None] = mapped_column(sa.String(200))
    region: Mapped[str | None] = mapped_column(sa.String(200))
    occurred_at: Mapped[datetime | None]
    reported_at: Mapped[datetime]
    received_at: Mapped[datetime]
    # incident reports
    filing_number: Mapped[str | None] = mapped_column(sa.String(200))
    company: Mapped[str | None] = mapped_column(sa.String(200))
    incident_type: Mapped[str | None] = mapped_column(sa.String(40))
    severity: Mapped[str | None] = mapped_column(sa.String(20))
    affected_users: Mapped[int | None] = mapped_column(sa.BigInteger)
    measures: Mapped[str | None] = mapped_column(sa.Text)
    # scoring
    scam_probability: Mapped[float | None] = mapped_column(sa.Float)
    is_scam: Mapped[bool | None]
    scam_type: Mapped[str | None] = mapped_column(sa.String(60))
    score_reasons: Mapped[list[Any]] = mapped_column(default=list)
    model_version: Mapped[str | None] = mapped_column(sa.String(100))
    # links
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)


class ReportIdentifier(Base):
    __tablename__ = "report_identifiers"
    __table_args__ = (sa.Index("ix_report_identifiers_kind_value", "kind", "value", "reported_at"),)

    report_id: Mapped[str] = mapped_column(
        sa.ForeignKey("reports.report_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    region: Mapped[str | None] = mapped_column(sa.String(200))
    reported_at: Mapped[datetime]


class KnownIdentifier(Base):
    """Running totals per identifier, kept in step with ``report_identifiers`` by the worker, so
    reputation and campaign look-ups are one primary-key read instead of a scan of history."""

    __tablename__ = "identifiers"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    report_count: Mapped[int]
    # Distinct reporters weighted by trust (antifraud.trust): the sum of identifier_reporters.weight.
    reporter_weight: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)


class IdentifierReporter(Base):
    """Who has reported an identifier, once each (a reporter key, or "report:<id>" when the
    reporter is unknown), with the trust weight of their first such report."""

    __tablename__ = "identifier_reporters"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    reporter: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    weight: Mapped[float] = mapped_column(sa.Float)


class IdentifierRegion(Base):
    __tablename__ = "identifier_regions"

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(200), primary_key=True)


class ReportContact(Base):
    """Private reporter contact, kept out of ``reports`` so no query for public data touches it.
    ``sealed`` is the contact's JSON encrypted with the "contacts" key (monitoring.contacts)."""

    __tablename__ = "report_contacts"

    report_id: Mapped[str] = mapped_column(
        sa.ForeignKey("reports.report_id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[str] = mapped_column(sa.Text)


class CompanyReply(Base):
    """A company's answer on the record to scam reports (or an alert) naming one of its
    registered applications: the right of reply. The regulator reads it beside the reports."""

    __tablename__ = "company_replies"
    __table_args__ = (sa.Index("ix_company_replies_application_id_created_at", "application_id", "created_at"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(20))  # "reports" (a month's scam reports) or "alert"
    subject_ref: Mapped[str] = mapped_column(sa.String(60))  # the month ("2026-12") or the alert id
    text: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[created_at]
