"""Registry tables: companies, users, API tokens, applications and their versions, audit trail,
filing-number sequences and supervision tasks.

Application field columns on `application_versions` carry exactly the names in
`registry.vocab.APPLICATION_FIELDS` (the profile and the structured questions); sets and lists
are JSON arrays of vocabulary codes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tierwatch.core.db import Base, created_at, intpk
from tierwatch.core.clock import utcnow

# An unanswered question is SQL NULL (not JSON null), so "which filings left it open" is a plain
# IS NULL on both databases.
_ANSWER_LIST = sa.JSON(none_as_null=True)
_ANSWER_MAP = sa.JSON(none_as_null=True)

ROLES = ("company", "regulator", "analyst", "admin", "partner")  # partner: a partner feed (bank, carrier)
REGULATOR_ROLES = ("regulator", "analyst", "admin")


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(200))
    # Unified social credit code (GB 32100-2015); empty for providers outside China (imports).
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    country: Mapped[str] = mapped_column(sa.String(2), default="CN")
    province: Mapped[str | None] = mapped_column(sa.String(50))
    contact_name: Mapped[str | None] = mapped_column(sa.String(100))
    contact_email: Mapped[str | None] = mapped_column(sa.String(200))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(50))
    source: Mapped[str] = mapped_column(sa.String(40), default="registered")
    created_at: Mapped[created_at]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'company') = (company_id IS NOT NULL)", name="company_role_has_company"
        ),
    )

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    company: Mapped[Company | None] = relationship()

    @property
    def is_regulator(self) -> bool:
        return self.role in REGULATOR_ROLES


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # What the token may do: "all", "read" (GET only) or "report" (submit reports only).
    scope: Mapped[str] = mapped_column(sa.String(20), default="all", server_default="all")
    # The token that minted this one (an administrator's): revoking it revokes this too.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"), index=True)

    user: Mapped[User] = relationship()


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        sa.UniqueConstraint("filing_year", "filing_seq", name="uq_applications_filing_year_seq"),
        sa.UniqueConstraint("source", "external_ref", name="uq_applications_source_external_ref"),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    # Denormalised from the latest version, for listings.
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    filing_number: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    filing_year: Mapped[int | None]
    filing_seq: Mapped[int | None]
    approved_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(sa.String(40), default="registered")
    external_ref: Mapped[str | None] = mapped_column(sa.String(200))
    import_notes: Mapped[dict[str, Any] | None]
    service_stopped_on: Mapped[date | None] = mapped_column(sa.Date)
    deregistered_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company] = relationship()
    versions: Mapped[list["ApplicationVersion"]] = relationship(
        back_populates="application", order_by="ApplicationVersion.number"
    )


class ApplicationVersion(Base):
    __tablename__ = "application_versions"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "number", name="uq_application_versions_app_number"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20))
    # --- filing fields (registry.vocab.APPLICATION_FIELDS) ---
    name: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[str | None] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.Text)
    scenario: Mapped[str | None] = mapped_column(sa.Text)
    deployment_channels: Mapped[list[Any]] = mapped_column(default=list)
    models: Mapped[list[Any]] = mapped_column(default=list)
    capabilities: Mapped[list[Any]] = mapped_column(default=list)
    domain: Mapped[str | None] = mapped_column(sa.String(40))
    monthly_active_users: Mapped[int | None] = mapped_column(sa.BigInteger)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    audiences: Mapped[list[Any]] = mapped_column(default=list)
    personal_info: Mapped[list[Any]] = mapped_column(default=list)
    cross_border_transfer: Mapped[bool | None]
    public_opinion_attributes: Mapped[bool | None]
    human_oversight: Mapped[str | None] = mapped_column(sa.String(20))
    content_labelling: Mapped[bool | None]
    security_assessment_done: Mapped[bool | None]
    # --- structured questions (registry.vocab.QUESTIONS): NULL = unanswered, never "no" ---
    offered_to_public: Mapped[str | None] = mapped_column(sa.String(40))
    intended_purpose: Mapped[list[Any] | None] = mapped_column(_ANSWER_LIST)
    annex_i_product: Mapped[str | None] = mapped_column(sa.String(40))
    safety_component: Mapped[str | None] = mapped_column(sa.String(40))
    rbi_remote: Mapped[str | None] = mapped_column(sa.String(40))
    rbi_real_time: Mapped[str | None] = mapped_column(sa.String(40))
    rbi_public_spaces: Mapped[str | None] = mapped_column(sa.String(40))
    rbi_law_enforcement: Mapped[str | None] = mapped_column(sa.String(40))
    rbi_exception: Mapped[str | None] = mapped_column(sa.String(40))
    biometric_verification_only: Mapped[str | None] = mapped_column(sa.String(40))
    biometric_categorisation_sensitive: Mapped[str | None] = mapped_column(sa.String(40))
    infers_emotions: Mapped[str | None] = mapped_column(sa.String(40))
    emotion_settings: Mapped[list[Any] | None] = mapped_column(_ANSWER_LIST)
    emotion_medical_or_safety: Mapped[str | None] = mapped_column(sa.String(40))
    manipulative_techniques: Mapped[str | None] = mapped_column(sa.String(40))
    exploits_vulnerabilities: Mapped[str | None] = mapped_column(sa.String(40))
    social_scoring: Mapped[str | None] = mapped_column(sa.String(40))
    crime_prediction_profiling: Mapped[str | None] = mapped_column(sa.String(40))
    untargeted_face_scraping: Mapped[str | None] = mapped_column(sa.String(40))
    profiling: Mapped[str | None] = mapped_column(sa.String(40))
    art6_3_exemption: Mapped[str | None] = mapped_column(sa.String(40))
    fraud_detection_only: Mapped[str | None] = mapped_column(sa.String(40))
    interacts_with_people: Mapped[str | None] = mapped_column(sa.String(40))
    public_interest_text: Mapped[str | None] = mapped_column(sa.String(40))
    human_editorial_control: Mapped[str | None] = mapped_column(sa.String(40))
    edits_real_persons: Mapped[str | None] = mapped_column(sa.String(40))
    differential_pricing: Mapped[str | None] = mapped_column(sa.String(40))
    cac_algorithm_filing: Mapped[str | None] = mapped_column(sa.String(100))
    # question -> the written reason for an exemption claim (registry.vocab Question.justify)
    justifications: Mapped[dict[str, Any] | None] = mapped_column(_ANSWER_MAP)
    # --- workflow ---
    change_note: Mapped[str | None] = mapped_column(sa.Text)
    changed_on: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    application: Mapped[Application] = relationship(back_populates="versions")


class FilingSequence(Base):
    """Last filing-number sequence issued per year; incremented under a row lock."""

    __tablename__ = "filing_sequences"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[intpk]
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)  # no FK: the trail outlives users
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(60))
    entity: Mapped[str] = mapped_column(sa.String(60))
    entity_id: Mapped[str] = mapped_column(sa.String(60))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    changes: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_entries_entity_entity_id", "entity", "entity_id"),)


class AuditHead(Base):
    """One row: the last entry of the chain. Appends lock it, so the chain never forks, and
    verify compares it with the chain's end, so deleting the newest entries is noticed too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class SupervisionTask(Base):
    __tablename__ = "supervision_tasks"
    __table_args__ = (
        sa.UniqueConstraint(
            "application_id", "kind", "period_key", name="uq_supervision_tasks_app_kind_period"
        ),
        sa.Index("ix_supervision_tasks_status_due_on", "status", "due_on"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # What makes the task unique within (application, kind): a period ("2026-Q3") or an event id.
    period_key: Mapped[str] = mapped_column(sa.String(60))
    jurisdiction: Mapped[str | None] = mapped_column(sa.String(40))
    tier: Mapped[str | None] = mapped_column(sa.String(20))
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    details: Mapped[dict[str, Any] | None]
    created_at: Mapped[created_at]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    application: Mapped[Application] = relationship()


class SecurityEvent(Base):
    """Aggregated security log: failed sign-ins, refusals (403) and look-ups of what another
    tenant owns (404), counted per minute, kind, actor and route. The source address is kept
    only as a keyed hash (it is personal data)."""

    __tablename__ = "security_events"
    __table_args__ = (
        sa.UniqueConstraint("minute", "kind", "actor", "source", "route", name="uq_security_events_bucket"),
    )

    id: Mapped[intpk]
    minute: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    actor: Mapped[str] = mapped_column(sa.String(60))  # "anonymous", "company:12", or an e-mail's hash
    source: Mapped[str] = mapped_column(sa.String(16))  # keyed hash of the client address
    route: Mapped[str] = mapped_column(sa.String(200))
    count: Mapped[int] = mapped_column(default=1)
    last_at: Mapped[datetime]



class TaskEvidence(Base):
    """A file a company handed in for a supervision task. The bytes live under the data
    directory at a random name (``storage_key``); the web never serves that path, only the
    file through a view that checks who asks."""

    __tablename__ = "task_evidence"

    id: Mapped[intpk]
    # Random, in download URLs instead of the sequential id: nothing to count or guess.
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_tasks.id"), index=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))  # as uploaded, cleaned; shown, never a path
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[created_at]


class SignupRequest(Base):
    """A company sign-up waiting for its e-mail address to be confirmed. Only a hash of the
    link's token is kept; the password is kept only as its argon2 hash."""

    __tablename__ = "signup_requests"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(200), index=True)
    data: Mapped[dict[str, Any]]  # company fields, the user's name and password hash
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
