"""What the API answers, as pydantic models: the OpenAPI document is generated from them and the
fuzz test checks every answer against them. The views build plain dicts (the *_json functions);
these models describe those dicts, so a change to one without the other fails the fuzz test.

Request models live with their use cases (registry.schemas, antifraud.schemas, monitoring.messages);
the few here describe API-only shapes (query strings, bulk envelopes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierwatch.antifraud.schemas import LabelIn as _LabelFields

from tierwatch.monitoring.messages import IncidentReport, ScamReport
from tierwatch.registry.schemas import LoginIn, TokenIn
from tierwatch.web.api.common import MAX_OFFSET
from tierwatch.web.jsonio import ID_MAX

Timestamp = datetime  # serialised ISO 8601 with offset (UTC)
Id = Annotated[int, Field(ge=0, le=ID_MAX)]
Limit = Annotated[int, Field(ge=1, le=ID_MAX, description="how many; larger values are cut to the most allowed")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")  # the document says exactly what comes back


# --- accounts -------------------------------------------------------------------------------

class CompanyOut(_Out):
    id: int
    name: str
    credit_code: str | None
    country: str
    province: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    source: str
    created_at: Timestamp | None


class UserOut(_Out):
    id: int
    email: str
    name: str
    role: Literal["company", "regulator", "analyst", "admin", "partner"]
    company_id: int | None
    is_active: bool


class TokenOut(_Out):
    id: int
    name: str
    prefix: str
    scope: Literal["all", "read", "report"]
    parent_id: int | None
    created_at: Timestamp | None
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    token: str | None = Field(default=None, description="the token itself: shown once, at creation")


class TokenList(_Out):
    items: list[TokenOut]


class SignupAccepted(_Out):
    status: Literal["confirmation_sent"]
    message: str


class ConfirmSignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200, description="the secret of the e-mailed confirmation link")


class RegistrationOut(_Out):
    company: CompanyOut
    user: UserOut
    token: TokenOut


class CreateTokenIn(LoginIn, TokenIn):
    """E-mail and password mint a token for that account; without them an administrator signed
    in with a token mints a child token (revoked with its parent)."""

    email: str | None = Field(default=None, max_length=200)  # type: ignore[assignment]
    password: str | None = Field(default=None, max_length=200)  # type: ignore[assignment]


class CompanyList(_Out):
    items: list[CompanyOut]


# --- registry -------------------------------------------------------------------------------

class VersionOut(_Out):
    id: int
    number: int
    status: str
    fields: dict[str, Any]
    change_note: str | None
    changed_on: date | None
    created_at: Timestamp | None
    submitted_at: Timestamp | None
    decided_at: Timestamp | None
    decision_reason: str | None


class VersionRef(_Out):
    number: int
    status: str


class ApplicationSummary(_Out):
    id: int
    company_id: int
    name: str
    status: str
    filing_number: str | None
    approved_at: Timestamp | None
    source: str
    service_stopped_on: date | None
    deregistered_at: Timestamp | None
    updated_at: Timestamp | None


class ApplicationOut(ApplicationSummary):
    latest_version: VersionOut
    effective_version_number: int | None
    versions: list[VersionRef]
    import_notes: dict[str, Any] | None


class ApplicationList(_Out):
    items: list[ApplicationSummary]
    total: int
    limit: int
    offset: int


class ApplicationQuery(BaseModel):
    limit: Limit = 50
    offset: Offset = 0
    status: Literal["draft", "submitted", "under_review", "approved", "returned", "rejected", "superseded",
                    "deregistered"] | None = None
    company_id: Id | None = None
    q: str | None = Field(default=None, description="part of the name or filing number")


class PagingQuery(BaseModel):
    limit: Limit = 50
    offset: Offset = 0


class AuditEntryOut(_Out):
    id: int
    at: Timestamp | None
    actor: str
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    reason: str | None
    changes: dict[str, Any] | None
    hash: str


class AuditList(_Out):
    items: list[AuditEntryOut]


class AuditQuery(BaseModel):
    limit: Limit = 100
    entity: str | None = None
    entity_id: str | None = None
    before_id: Id | None = None


class ChainCheckOut(_Out):
    ok: bool
    checked: int
    first_broken_id: int | None
    message: str


class TaskOut(_Out):
    id: int
    application_id: int
    company_id: int
    kind: str
    period_key: str
    jurisdiction: str | None
    tier: str | None
    due_on: date | None
    status: str
    details: dict[str, Any] | None
    completed_at: Timestamp | None
    note: str | None


class TaskList(_Out):
    items: list[TaskOut]


class TaskQuery(BaseModel):
    limit: Limit = 100
    offset: Offset = 0
    status: Literal["open", "overdue", "done"] | None = None
    company_id: Id | None = None
    application_id: Id | None = None


# --- tiers and rule sets --------------------------------------------------------------------

class TierList(_Out):
    application_id: int
    items: list[dict[str, Any]] = Field(description="per jurisdiction: tier, fired rules with reasons and legal basis, obligations")


class OverrideOut(_Out):
    id: int
    application_id: int
    jurisdiction: str
    tier: str
    computed_tier: str | None
    justification: str
    created_at: Timestamp | None


class OverrideEnded(_Out):
    application_id: int
    jurisdiction: str
    ended: bool


class RuleSetVersionOut(_Out):
    id: int
    jurisdiction: str
    version: int
    edition: str | None
    title: str | None
    rule_count: int | None
    status: str
    checksum: str | None
    activated_at: Timestamp | None
    activated_by: str | None


class RuleSetList(_Out):
    items: list[RuleSetVersionOut]


class RuleSetQuery(BaseModel):
    jurisdiction: str | None = None


class RuleFileOk(_Out):
    ok: bool
    errors: list[dict[str, Any]]


class TierMove(_Out):
    application_id: int
    before: str | None
    after: str
    overridden_to: str | None


class TierMatrixCell(_Out):
    before: str | None
    after: str
    count: int


class TierChangeOut(_Out):
    jurisdiction: str
    edition: str | None
    checksum: str
    version: int | None
    retired_version: int | None
    assessed: int
    moved: int
    moves: list[TierMove]
    matrix: list[TierMatrixCell]
    disagree_with_override: int = Field(description="applications whose override in force the new rules disagree with")
    flagged: int = Field(description="applications the rules put in the review queue")
    edition_warning: str | None = Field(description="a changed file that kept a stored edition label")


class RuleSetRef(_Out):
    edition: str
    checksum: str


class RuleChange(_Out):
    kind: str = Field(description="rule, text_check, review, finding, exemption, signal, combine or tier")
    id: str
    change: Literal["added", "removed", "changed"]
    attributes: list[str] = Field(description="what changed, for a changed item")
    detail: str


class DiffMove(_Out):
    ref: int = Field(description="the application's id")
    name: str
    before: str
    after: str
    caused_by: list[str] = Field(description="the rules, checks and exemptions whose outcome changed")
    score_before: int
    score_after: int


class RuleSetDiffOut(_Out):
    jurisdiction: str
    old: RuleSetRef
    new: RuleSetRef
    same_edition_changed: bool
    items: list[RuleChange]
    assessed: int
    moved: int
    moves: list[DiffMove]
    matrix: list[TierMatrixCell]
    flags_added: int
    findings_changed: int
    edition_conflict: str | None = Field(description="why activating the new file would be refused")


class DiffFileQuery(BaseModel):
    old: str | None = Field(None, description="a stored version, JURISDICTION@vN or JURISDICTION@active "
                                              "(default: the active version of the file's jurisdiction)")


class DiffVersionsQuery(BaseModel):
    old: str = Field(description="JURISDICTION@vN or JURISDICTION@active")
    new: str = Field(description="JURISDICTION@vN or JURISDICTION@active")


class ReviewQueueItem(_Out):
    assessment_id: int
    application_id: int
    application_version_id: int
    name: str
    company: str
    jurisdiction: str
    tier: str
    computed_tier: str
    flags: list[dict[str, Any]] = Field(description="id, kind, message (zh, en), fields with their filed values, evidence")
    assessed_at: Timestamp


class ReviewQueueOut(_Out):
    items: list[ReviewQueueItem]
    total: int
    by_kind: dict[str, int]
    limit: int
    offset: int


class ReviewQueueQuery(BaseModel):
    limit: Limit = 50
    offset: Offset = 0
    jurisdiction: str | None = None
    kind: str | None = Field(None, description="only filings with a flag of this kind")


class FlagsClearedOut(_Out):
    application_id: int
    jurisdiction: str
    assessment_id: int
    reviewed_at: Timestamp | None
    reviewed_by: str | None


# --- reports and labels ---------------------------------------------------------------------

class ScamReportIn(ScamReport):
    """A scam report as sent: report_id (your idempotency key) and reported_at are filled in
    when absent; who reported (reporter_type, source, reporter_key) is taken from the account,
    never from the body."""

    kind: Literal["scam"] = "scam"
    report_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")  # type: ignore[assignment]
    reported_at: datetime | None = None  # type: ignore[assignment]


class IncidentReportIn(IncidentReport):
    """An incident report (companies: only under their own filing numbers)."""

    kind: Literal["incident"] = "incident"
    report_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")  # type: ignore[assignment]
    reported_at: datetime | None = None  # type: ignore[assignment]


class BulkIn(BaseModel):
    reports: list[dict[str, Any]] = Field(min_length=1, max_length=1000,
                                          description='each a scam or incident report with "kind"')


class ReceiptOut(_Out):
    report_id: str
    tracking_code: str


class BulkReceiptOut(_Out):
    accepted: int
    receipts: list[ReceiptOut]


class LabelIn(_LabelFields):
    """An analyst's verdict. Name the report by the tracking code its reporter holds (what pages
    show) or by its report_id."""

    report_id: str | None = Field(default=None, min_length=1, max_length=100)  # type: ignore[assignment]
    tracking_code: str | None = Field(default=None, pattern=r"^TW-[0-9A-Z]{10}$")
    analyst: str | None = Field(default=None, max_length=120, description="ignored: the analyst is the caller")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_report(self) -> "LabelIn":
        if (self.report_id is None) == (self.tracking_code is None):
            raise ValueError("tracking_code: give the report's tracking_code or its report_id (one of them)")
        return self


class LabelOut(_Out):
    id: int
    report_id: str
    is_scam: bool
    scam_type: str | None
    ai_technique: str | None
    analyst: str
    note: str
    created_at: Timestamp | None = None


class LabelList(_Out):
    items: list[LabelOut]


class LabelQuery(BaseModel):
    limit: Limit = 100
    offset: Offset = 0
    report_id: str | None = None
