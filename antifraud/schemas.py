"""Validated input for analysts' labels, and JSON-ready output of scores."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tierwatch.antifraud.vocab import AI_TECHNIQUES, SCAM_TYPES


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    report_id: str = Field(min_length=1, max_length=100)
    is_scam: bool
    scam_type: str | None = None
    ai_technique: str | None = None
    analyst: str = Field(min_length=1, max_length=120)
    note: str = Field(default="", max_length=4000)

    @field_validator("scam_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in SCAM_TYPES:
            raise ValueError(f"unknown scam type; one of {', '.join(SCAM_TYPES)}")
        return value

    @field_validator("ai_technique")
    @classmethod
    def _known_technique(cls, value: str | None) -> str | None:
        if value is not None and value not in AI_TECHNIQUES:
            raise ValueError(f"unknown AI technique; one of {', '.join(AI_TECHNIQUES)}")
        return value


def result_to_dict(result: Any) -> dict:
    """A Score, IncidentSeverity or Rejected as plain JSON-ready data, with its kind."""
    data = asdict(result)
    data["kind"] = type(result).__name__.lower()
    return data
