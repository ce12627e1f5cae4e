"""Input models of the public side's use cases (field-level errors, unknown fields refused)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tierwatch.antifraud import vocab
from tierwatch.monitoring.identifiers import KINDS

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=20_000)]
ReportRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")]
# "kind:value" as the worker stores identifiers ("phone:+8613800138000")
IdentifierKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PublicationIn(_In):
    """A warning or a de-identified case story. Chinese is required, English optional (English
    pages show the Chinese text, marked as Chinese, when it is missing). Bodies are Markdown;
    raw HTML in them is shown as text, never run."""

    kind: Literal["warning", "case_story"]
    title_zh: Title
    title_en: Title | None = None
    summary_zh: Summary
    summary_en: Summary | None = None
    body_zh: Body
    body_en: Body | None = None
    scam_type: str | None = None
    ai_techniques: list[str] = Field(default_factory=list, max_length=len(vocab.AI_TECHNIQUES))
    identifiers: list[IdentifierKey] = Field(default_factory=list, max_length=50)
    occurred_on: date | None = None
    source_alert_id: str | None = Field(default=None, max_length=100)
    report_ids: list[ReportRef] = Field(default_factory=list, max_length=1000)

    @field_validator("scam_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in vocab.SCAM_TYPES:
            raise ValueError(f"unknown scam type {value!r}; one of: {', '.join(vocab.SCAM_TYPES)}")
        return value

    @field_validator("ai_techniques")
    @classmethod
    def _known_techniques(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in vocab.AI_TECHNIQUES or t == "none"]
        if unknown:
            raise ValueError(f"unknown AI technique {unknown[0]!r}")
        return list(dict.fromkeys(value))

    @field_validator("identifiers")
    @classmethod
    def _identifier_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            kind, sep, rest = key.partition(":")
            if not sep or kind not in KINDS or not rest:
                raise ValueError(f"{key!r} is not kind:value with a kind of {', '.join(KINDS)}")
        return list(dict.fromkeys(value))

    @field_validator("report_ids")
    @classmethod
    def _distinct_reports(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class DisputeContact(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class DisputeIn(_In):
    """What a person disputing a checked identifier sends: what it is (as typed on the check
    page), how they relate to it, why; a way to reach them is optional and stays private."""

    identifier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
    relation: Literal["owner", "not_scam"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]
    contact: DisputeContact | None = None


class DecisionIn(_In):
    decision: Literal["upheld", "rejected"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=2000)]
