"""What the alerting API answers and the query strings it reads, as pydantic models (the OpenAPI
document and the fuzz test use them; the views' *_json functions build exactly these shapes).
Request bodies are the use cases' own (monitoring.alerts.schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tierwatch.web.api.schemas import Id, Limit, Offset, Timestamp, _Out

Severity = Literal["low", "medium", "high", "critical"]
State = Literal["pending", "open", "acknowledged", "escalated", "cleared", "resolved", "false_positive", "withdrawn"]
Text = dict[str, str]  # {"zh": ..., "en": ...}


class WindowOut(_Out):
    start: Timestamp | None
    end: Timestamp | None


class SlaOut(_Out):
    ack_due_at: Timestamp | None
    resolve_due_at: Timestamp | None
    overdue_ack: bool
    overdue_resolve: bool


class AlertOut(_Out):
    id: int
    rule_id: str
    state: State
    severity: Severity
    tier: str | None
    owner: str
    group: str
    title: Text
    summary: Text
    reason: Text
    key: str | None = Field(description="the group key in full (a phone number, a domain ...): staff only")
    key_field: str | None
    value: float | None = Field(description="count, ratio, distinct values or metric; null: infinite")
    threshold: float
    counts: dict[str, int]
    report_count: int
    match_count: int
    identifiers: list[str]
    application_ids: list[str]
    campaign_ids: list[str]
    window: WindowOut
    first_match_at: Timestamp | None
    last_match_at: Timestamp | None
    pending_since: Timestamp | None
    opened_at: Timestamp | None
    acknowledged_at: Timestamp | None
    escalated_at: Timestamp | None
    cleared_at: Timestamp | None
    closed_at: Timestamp | None
    verdict: str | None
    reopen_count: int
    assignee_id: int | None
    sla: SlaOut
    tier_review_id: int | None
    updated_at: Timestamp | None
    version: int


class AlertReportOut(_Out):
    report_id: str
    kind: str
    reported_at: Timestamp | None
    channel: str | None
    region: str | None
    app_name: str | None
    description: str
    scam_probability: float | None
    scam_type: str | None
    ai_technique: str | None
    score_reasons: list[Any]
    amount_lost: float | None
    application_id: int | None
    campaign_id: int | None


class AlertEventOut(_Out):
    id: int
    at: Timestamp | None
    actor: str
    action: str
    data: dict[str, Any]


class HeldBackOut(_Out):
    reason: str
    key: str | None
    alert_id: int | None
    silence_id: int | None
    count: int
    first_at: Timestamp | None
    last_at: Timestamp | None
    until: Timestamp | None
    sample_report_ids: list[str]


class AlertDetailOut(AlertOut):
    reports: list[AlertReportOut]
    events: list[AlertEventOut]
    held_back: list[HeldBackOut]


class AlertList(_Out):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class AlertQuery(BaseModel):
    limit: Limit = 50
    offset: Offset = 0
    state: str | None = Field(default=None, description="one or more states, comma-separated")
    severity: str | None = Field(default=None, description="one or more severities, comma-separated")
    rule_id: str | None = None
    owner: str | None = None
    group: str | None = None
    assignee_id: Id | None = None
    tier: str | None = None
    overdue: Literal["true", "false", "1", "0"] | None = None
    q: str | None = Field(default=None, description="what an analyst types (the alerts index): words of the title, "
                          "summary or reason; an identifier however written (phone number, link, account); part of a "
                          "rule id; a registered application's name or filing number, or an app name from the reports")
    sort: str | None = Field(default=None, description="opened_at, updated_at, severity, id, report_count or "
                                                        "last_match_at; prefix - for descending (default -opened_at)")


class BulkOut(_Out):
    done: list[int]
    refused: dict[str, str]


class SilenceOut(_Out):
    id: int
    rule_id: str | None
    key: str | None
    owner: str
    reason: str
    starts_at: Timestamp | None
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    revoked_by: str | None


class SilenceList(_Out):
    items: list[SilenceOut]


class SilenceQuery(BaseModel):
    all: Literal["true", "false", "1", "0"] | None = Field(default=None, description="expired and lifted ones too")


class SubscriptionOut(_Out):
    id: int
    user_id: int
    channel: Literal["email", "webhook"]
    endpoint_id: int | None
    min_severity: Severity
    rule_groups: list[str]
    owners: list[str]
    digest_only: bool


class SubscriptionList(_Out):
    items: list[SubscriptionOut]


class Deleted(_Out):
    id: int
    deleted: bool


class EndpointOut(_Out):
    id: int
    name: str
    url: str
    secret_version: int
    created_at: Timestamp | None
    secret: str | None = Field(default=None, description="the signing secret: shown once, on creation or rotation")
    revoked_at: Timestamp | None = None


class EndpointList(_Out):
    items: list[EndpointOut]


class RunOut(_Out):
    id: int
    cycle_id: str
    evaluator: str
    source: Literal["schedule", "stream"]
    rule_id: str
    window_start: Timestamp | None
    window_end: Timestamp | None
    matches: int
    opened: int
    updated: int
    suppressed: int
    requests: int
    took_ms: int
    error: str | None
    at: Timestamp | None


class RunList(_Out):
    items: list[RunOut]


class RunQuery(BaseModel):
    limit: Limit = 100
    offset: Offset = 0
    rule_id: str | None = None
    errors: Literal["true", "false", "1", "0"] | None = Field(default=None, description="only runs that failed")


class AlertRuleOut(_Out):
    id: str
    type: str
    title: Text
    enabled: bool
    owner: str
    group: str
    severity: Severity
    severity_by_tier: bool
    key_field: str | None
    every: str
    checksum: str


class AlertRuleList(_Out):
    items: list[AlertRuleOut]
    errors: list[str]


class TierReviewOut(_Out):
    id: int
    application_id: int
    jurisdiction: str | None
    tier_at_request: str | None
    raised_from_alert_id: int | None
    reason: str
    raised_by: str
    status: Literal["open", "decided"]
    decision: Literal["keep", "override"] | None
    decided_tier: str | None
    override_id: int | None
    decided_by: str | None
    decided_at: Timestamp | None
    comment: str | None
    created_at: Timestamp | None


class TierReviewList(_Out):
    items: list[TierReviewOut]


class TierReviewQuery(BaseModel):
    limit: Limit = 50
    offset: Offset = 0
    status: Literal["open", "decided"] | None = None
    application_id: Id | None = None
