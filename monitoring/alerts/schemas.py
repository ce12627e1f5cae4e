"""Validated input of the alerting API: unknown fields refused, field-level messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from tierwatch.monitoring.alerts.model import parse_duration

Severity = Literal["low", "medium", "high", "critical"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ActionIn(_In):
    comment: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=2000)
    assignee_id: int | None = None
    unassign: bool = False
    tier_review: bool = False
    jurisdiction: str | None = Field(default=None, max_length=40)
    label_reports: Literal["scam", "not_scam", "leave"] | None = None
    scam_type: str | None = Field(default=None, max_length=40)
    mute_days: int | None = Field(default=None, ge=0, le=30)


class BulkIn(ActionIn):
    ids: list[int] = Field(min_length=1, max_length=500)
    action: Literal["acknowledge", "assign", "resolve", "false_positive", "escalate", "comment"]


class SilenceIn(_In):
    rule_id: str | None = Field(default=None, min_length=1, max_length=80)
    group_key: str | None = Field(default=None, min_length=1, max_length=320)
    reason: str = Field(min_length=1, max_length=2000)
    starts_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    duration: str | None = Field(default=None, description="instead of expires_at: 30m, 2h, 7d")

    @field_validator("duration")
    @classmethod
    def _compact(cls, value: str | None) -> str | None:
        if value is not None:
            if not parse_duration(value):
                raise ValueError("a silence lasts longer than 0")
        return value

    @model_validator(mode="after")
    def _one_end(self) -> SilenceIn:
        if (self.expires_at is None) == (self.duration is None):
            raise ValueError("expires_at: give exactly one of expires_at or duration")
        return self

    def until(self, now: datetime) -> datetime:
        if self.expires_at is not None:
            return self.expires_at
        assert self.duration is not None
        return (self.starts_at or now) + parse_duration(self.duration)


class SubscriptionIn(_In):
    channel: Literal["email", "webhook"]
    min_severity: Severity = "high"
    rule_groups: list[str] = Field(default_factory=list, max_length=50)
    owners: list[str] = Field(default_factory=list, max_length=50)
    digest_only: bool = False
    endpoint_id: int | None = None


class WebhookIn(_In):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=500)


class DecisionIn(_In):
    decision: Literal["keep", "override"]
    comment: str = Field(min_length=1, max_length=4000)
    tier: Literal["low", "medium", "high", "prohibited"] | None = None
    jurisdiction: str | None = Field(default=None, max_length=40)


