"""Alerting tables: alerts and what they link, their timeline, what was held back and why,
silences, subscriptions and webhook endpoints, and the evaluator's own state (watermarks, run
records, the threshold inbox, the embedded lease).

``alerts`` has a partial unique index: at most one live alert (pending, open, acknowledged,
escalated or cleared) per (dedup key, group key), enforced by the database on SQLite and
PostgreSQL alike. A rule without ``group_by`` has one group, stored as the key "".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tierwatch.core.db import Base, created_at, intpk

LIVE_STATES = ("pending", "open", "acknowledged", "escalated", "cleared")
STATES = (*LIVE_STATES, "resolved", "false_positive", "withdrawn")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _where(condition: str) -> dict[str, Any]:
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


_LIVE = "state IN ('pending', 'open', 'acknowledged', 'escalated', 'cleared')"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("uq_alerts_live_key", "dedup_key", "group_key", unique=True, **_where(_LIVE)),
        sa.Index("ix_alerts_key_latest", "dedup_key", "group_key", "id"),
        sa.Index("ix_alerts_state_severity", "state", "severity"),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name="state_known"),
    )

    id: Mapped[intpk]
    rule_id: Mapped[str] = mapped_column(sa.String(80), index=True)
    rule_checksum: Mapped[str] = mapped_column(sa.String(64))
    dedup_key: Mapped[str] = mapped_column(sa.String(80))
    group_key: Mapped[str] = mapped_column(sa.String(320))  # "" for a rule without group_by
    group_field: Mapped[str | None] = mapped_column(sa.String(60))
    state: Mapped[str] = mapped_column(sa.String(20))
    severity: Mapped[str] = mapped_column(sa.String(10))
    tier: Mapped[str | None] = mapped_column(sa.String(20))
    owner: Mapped[str] = mapped_column(sa.String(60), index=True)
    rule_group: Mapped[str] = mapped_column(sa.String(60))
    title: Mapped[dict[str, Any]]  # {"zh": ..., "en": ...}
    summary: Mapped[dict[str, Any]]
    reason: Mapped[dict[str, Any]]
    value: Mapped[float | None] = mapped_column(sa.Float)  # None: infinite (a spike from zero)
    threshold: Mapped[float] = mapped_column(sa.Float)
    counts: Mapped[dict[str, Any]]
    facets: Mapped[dict[str, Any]]  # summary field -> value -> linked reports carrying it
    window_start: Mapped[datetime]  # of the latest match
    window_end: Mapped[datetime]
    first_match_at: Mapped[datetime]
    last_match_at: Mapped[datetime]
    match_count: Mapped[int] = mapped_column(default=1)
    report_count: Mapped[int] = mapped_column(default=0)  # linked reports (up to max_reports)
    linked_until: Mapped[datetime | None]  # reports up to here were looked for and linked
    identifiers: Mapped[list[Any]]
    application_ids: Mapped[list[Any]]
    campaign_ids: Mapped[list[Any]]
    pending_since: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    condition_false_since: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(sa.String(20))
    reopen_count: Mapped[int] = mapped_column(default=0)
    realert_seconds: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ack_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    overdue_ack: Mapped[bool] = mapped_column(default=False)
    overdue_resolve: Mapped[bool] = mapped_column(default=False)
    tier_review_id: Mapped[int | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)


class AlertReport(Base):
    __tablename__ = "alert_reports"

    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True, index=True)
    linked_at: Mapped[datetime]


class AlertEvent(Base):
    """The alert's timeline: evaluator changes and every human action (those also go to the
    hash-chained audit trail)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(200))
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[dict[str, Any]]


class AlertSuppression(Base):
    """Matches held back, counted per (rule, key, reason, target) instead of a row per minute."""

    __tablename__ = "alert_suppressions"
    __table_args__ = (sa.UniqueConstraint("rule_id", "group_key", "reason", "target",
                                          name="uq_alert_suppressions_what"),)

    id: Mapped[intpk]
    rule_id: Mapped[str] = mapped_column(sa.String(80))
    group_key: Mapped[str] = mapped_column(sa.String(320))
    reason: Mapped[str] = mapped_column(sa.String(30))  # aggregated, realert, silence, ...
    target: Mapped[str] = mapped_column(sa.String(40))  # "alert:12", "silence:3" or ""
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    silence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alert_silences.id"))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    count: Mapped[int]
    until: Mapped[datetime | None]
    sample_report_ids: Mapped[list[Any]]


class AlertSilence(Base):
    __tablename__ = "alert_silences"
    __table_args__ = (sa.CheckConstraint("expires_at > starts_at", name="expires_after_start"),)

    id: Mapped[intpk]
    rule_id: Mapped[str | None] = mapped_column(sa.String(80))  # None: every rule
    group_key: Mapped[str | None] = mapped_column(sa.String(320))  # None: every key
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    owner: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text)
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(sa.String(200))


class WebhookEndpoint(Base):
    """A partner's or a user's receiver. Its signing secret is derived from the key ring
    (never stored): HMAC("webhook" key, "<id>:<secret_version>"), shown once."""

    __tablename__ = "alert_webhook_endpoints"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    url: Mapped[str] = mapped_column(sa.String(500))
    secret_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None]


class AlertSubscription(Base):
    __tablename__ = "alert_subscriptions"
    __table_args__ = (sa.CheckConstraint("channel IN ('email', 'webhook')", name="channel_known"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    endpoint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alert_webhook_endpoints.id"))
    min_severity: Mapped[str] = mapped_column(sa.String(10))
    rule_groups: Mapped[list[Any]]  # empty: every group
    owners: Mapped[list[Any]]  # empty: every owner
    digest_only: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]


class AlertRuleState(Base):
    """Per rule: the last window end whose results are committed (moved by compare-and-set),
    and its error streak."""

    __tablename__ = "alert_rule_state"

    rule_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    checksum: Mapped[str] = mapped_column(sa.String(64))
    evaluated_until: Mapped[datetime | None]
    errors_in_a_row: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime]


class AlertRun(Base):
    """One rule evaluated at one window end (source "schedule"), or the stream's matches of a
    threshold rule drained (source "stream"). "Each rule once per cycle" is counted here."""

    __tablename__ = "alert_runs"
    __table_args__ = (sa.Index("ix_alert_runs_rule_end", "rule_id", "window_end"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cycle_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    evaluator: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(10))
    rule_id: Mapped[str] = mapped_column(sa.String(80))
    rule_checksum: Mapped[str] = mapped_column(sa.String(64))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime]
    matches: Mapped[int] = mapped_column(default=0)
    opened: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)  # the cycle's search requests (shared)
    took_ms: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(index=True)


class AlertInbox(Base):
    """Per-report matches of threshold rules, written by the worker in the transaction that
    stores the report (drained by the evaluator), or by the scheduled path when it sees the
    report first. The key makes a report fire once whichever path sees it first."""

    __tablename__ = "alert_inbox"

    rule_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    report_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    group_key: Mapped[str] = mapped_column(sa.String(320), primary_key=True)
    match: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    drained_at: Mapped[datetime | None] = mapped_column(index=True)


class AlertLease(Base):
    """The embedded deployment's evaluator lease (PostgreSQL uses an advisory lock instead)."""

    __tablename__ = "alert_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(100))
    epoch: Mapped[int]
    expires_at: Mapped[datetime]


class AlertIndexChange(Base):
    """Reports changed in place in the search index (re-tiered, relinked). The evaluator reads
    the newest id each cycle and, when it moved, reads its windows held in memory again."""

    __tablename__ = "alert_index_changes"

    id: Mapped[intpk]
    reason: Mapped[str] = mapped_column(sa.String(40))
    reports: Mapped[int]
    at: Mapped[datetime]
