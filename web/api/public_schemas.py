"""What the public API answers (no account needed): the check of a number, the status of a
report by its tracking code, the public register, published warnings and case stories, and
scam trends. The same facts as the public pages, under the same rules: no counts below the
minimum of independent reporters, nothing of any reporter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierwatch.web.api.schemas import Limit, Offset


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckQuery(BaseModel):
    q: str = Field(min_length=1, max_length=300, description="a phone number, link or account, in any format")


class CodeCount(_Out):
    code: str
    count: int


class RecognisedOut(_Out):
    kind: str
    value: str
    shown: str


class DisputeOut(_Out):
    status: Literal["open", "upheld", "rejected"]
    since: datetime


class RegisteredAppRef(_Out):
    id: int
    name: str
    provider: str
    filing_number: str


class PublicationRef(_Out):
    id: int
    kind: Literal["warning", "case_story"]
    title_zh: str
    title_en: str | None
    published_at: datetime | None


class CheckOut(_Out):
    recognised: RecognisedOut
    minimum_reporters: int = Field(description="figures are given only from this many independent reporters on")
    risk: Literal["not_rated", "medium", "high", "cleared"]
    shown: bool = Field(description="false: fewer independent reporters than the minimum (or cleared); no figures")
    reports: int | None
    reporters: int | None
    first_reported: datetime | None
    last_reported: datetime | None
    scam_types: list[CodeCount]
    channels: list[CodeCount]
    ai_techniques: list[CodeCount]
    dispute: DisputeOut | None
    applications: list[RegisteredAppRef]
    warnings: list[PublicationRef]


class SharedIdentifierOut(_Out):
    kind: str
    shown: str
    other_reporters: int | None = Field(description="null: fewer independent reporters than the minimum")


class ReportStatusOut(_Out):
    tracking_code: str
    received_at: datetime
    analysed: bool
    looks_like: str | None
    in_campaign: bool
    identifiers: list[SharedIdentifierOut]
    warnings: list[PublicationRef]


class RegistryQuery(BaseModel):
    q: str | None = Field(default=None, max_length=100)
    limit: Limit = 20
    offset: Offset = 0


class ObligationOut(_Out):
    kind: str
    every: str | None = None
    within: str | None = None
    note: dict[str, str] | None = None


class TierOut(_Out):
    jurisdiction: str
    tier: str
    obligations: list[ObligationOut]


class RegisteredAppOut(_Out):
    id: int
    name: str
    provider: str
    filing_number: str
    filed_at: datetime | None
    domain: str | None
    scenario: str | None
    tiers: list[TierOut]


class RegistryList(_Out):
    total: int
    items: list[RegisteredAppOut]


class PublicationQuery(BaseModel):
    kind: Literal["warning", "case_story"] | None = None
    scam_type: str | None = Field(default=None, max_length=60)
    limit: Limit = 20
    offset: Offset = 0


class PublicationOut(_Out):
    id: int
    kind: Literal["warning", "case_story"]
    title_zh: str
    title_en: str | None
    summary_zh: str
    summary_en: str | None
    body_zh: str = Field(description="Markdown")
    body_en: str | None
    scam_type: str | None
    ai_techniques: list[str]
    identifiers: list[str]
    occurred_on: date | None
    published_at: datetime | None


class PublicationList(_Out):
    total: int
    items: list[PublicationOut]
