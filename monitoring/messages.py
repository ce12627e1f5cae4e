"""Message schemas on the intake topics (schema_version 1).

Every message carries a producer-chosen ``report_id``: the idempotency key. A producer that
retries sends the same id, and the worker stores and indexes it once.

Validation is strict (no "12" for 12, no unknown fields) so a partner feed learns about a
mistake from the dead-letter reason instead of having it silently coerced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from tierwatch.antifraud import vocab

SCHEMA_VERSION: Literal[1] = 1
# Larger payloads are rejected before JSON parsing: a report is text, not attachments.
MAX_MESSAGE_BYTES = 256 * 1024

ReportId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# JSON has one number type: 332.0 is the integer 332 to JSON Schema (and to every JSON producer
# that writes floats), so the strict parse takes a whole float as an int; 332.5 is still refused.
WholeNumber = Annotated[int, BeforeValidator(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)]


# The anti-fraud vocabulary: the API, the worker and the detectors share these exact codes.
def _codes(name: str, labels: Mapping[str, Any]) -> Any:
    return StrEnum(name, {code: code for code in labels})  # type: ignore[misc]


Channel = _codes("Channel", vocab.CHANNELS)
AiTechnique = _codes("AiTechnique", vocab.AI_TECHNIQUES)
PaymentMethod = _codes("PaymentMethod", vocab.PAYMENT_METHODS)
ReporterType = _codes("ReporterType", vocab.REPORTER_TYPES)
IncidentType = _codes("IncidentType", vocab.INCIDENT_TYPES)
Severity = _codes("Severity", vocab.SEVERITIES)


class ApplicationEventType(StrEnum):
    registered = "registered"
    amended = "amended"
    approved = "approved"
    tier_changed = "tier_changed"
    override = "override"
    deregistered = "deregistered"


class _Strict(BaseModel):
    # Strictness is applied where bytes come in (parse_report, validate_report: strict=True), so
    # Python callers may still pass "phone" for Channel.phone.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Message(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    report_id: ReportId


class ContactIdentifiers(_Strict):
    """What the reporter typed into the structured fields; free text is mined as well."""

    phones: list[Identifier] = Field(default_factory=list, max_length=50)
    urls: list[Identifier] = Field(default_factory=list, max_length=50)
    accounts: list[Identifier] = Field(default_factory=list, max_length=50)
    payment_accounts: list[Identifier] = Field(default_factory=list, max_length=50)


class ReporterContact(_Strict):
    """Private: stored apart from the report, never indexed, logged or shown publicly."""

    name: ShortText | None = Field(default=None, repr=False)
    phone: ShortText | None = Field(default=None, repr=False)
    email: ShortText | None = Field(default=None, repr=False)


class ScamReport(_Message):
    kind: Literal["scam"] = "scam"
    description: LongText  # what happened
    channel: Channel  # type: ignore[valid-type]
    identifiers: ContactIdentifiers = Field(default_factory=ContactIdentifiers)
    amount_lost: float | None = Field(default=None, ge=0, le=1e12)  # CNY
    payment_method: PaymentMethod | None = None  # type: ignore[valid-type]
    # One technique (what partner feeds send) or several (``ai_techniques``: a cloned voice on a
    # video call with a face swap); readers use ``techniques``, which joins both.
    ai_technique: AiTechnique | None = None  # type: ignore[valid-type]
    # None, not [], when absent: the wire form then leaves it out, as producers before it did.
    ai_techniques: list[AiTechnique] | None = Field(default=None, max_length=len(vocab.AI_TECHNIQUES))  # type: ignore[valid-type]
    app_name: ShortText | None = None
    region: ShortText | None = None  # province code or name, e.g. "GD" / "广东", "广东省深圳市"
    occurred_at: AwareDatetime | None = None
    reported_at: AwareDatetime
    reporter_type: ReporterType = ReporterType.citizen  # type: ignore[valid-type]
    source: ShortText | None = None  # partner feed name
    reporter_contact: ReporterContact | None = Field(default=None, repr=False)
    # A keyed hash standing for the reporter (monitoring.reporters), set by the intake, never by
    # the body: counts "independent reporters" without knowing who they are.
    reporter_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None

    @field_validator("ai_techniques")
    @classmethod
    def _distinct_techniques(cls, value: list[Any] | None) -> list[Any] | None:
        if value is None:
            return None
        if len(set(value)) != len(value):
            raise ValueError("each technique at most once")
        if "none" in value and len(value) > 1:
            raise ValueError("'none' cannot be combined with a technique")
        return value

    @property
    def techniques(self) -> list[str]:
        """Every AI technique the report names: ``ai_techniques`` then ``ai_technique``, each
        once; "none" only when nothing else is named."""
        out = [str(t.value) for t in self.ai_techniques or ()]
        if self.ai_technique is not None and self.ai_technique.value not in out:
            out.append(str(self.ai_technique.value))
        return [t for t in out if t != "none"] or out[:1]


class IncidentReport(_Message):
    kind: Literal["incident"] = "incident"
    app_name: ShortText
    filing_number: ShortText | None = None
    company: ShortText | None = None
    occurred_at: AwareDatetime
    incident_type: IncidentType  # type: ignore[valid-type]
    severity: Severity  # type: ignore[valid-type]
    affected_users: WholeNumber = Field(ge=0, le=10_000_000_000)
    description: LongText
    measures: LongText | None = None
    region: ShortText | None = None
    reported_at: AwareDatetime
    source: ShortText | None = None


class ApplicationEvent(_Message):
    kind: Literal["application"] = "application"
    event: ApplicationEventType
    application_id: ShortText
    name: ShortText
    filing_number: ShortText | None = None
    tier: ShortText | None = None
    previous_tier: ShortText | None = None
    jurisdiction: ShortText | None = None
    occurred_at: AwareDatetime


class Alert(_Message):
    kind: Literal["alert"] = "alert"
    rule_id: ShortText
    severity: Severity  # type: ignore[valid-type]
    title: ShortText
    summary: LongText | None = None
    application_id: ShortText | None = None
    report_ids: list[ReportId] = Field(default_factory=list, max_length=1000)
    created_at: AwareDatetime


Report = ScamReport | IncidentReport
Message = ScamReport | IncidentReport | ApplicationEvent | Alert
MESSAGE_TYPES: dict[str, type[_Message]] = {
    "scam": ScamReport,
    "incident": IncidentReport,
    "application": ApplicationEvent,
    "alert": Alert,
}
_ANY_REPORT: TypeAdapter[Report] = TypeAdapter(
    Annotated[ScamReport | IncidentReport, Field(discriminator="kind")]
)


class InvalidMessage(ValueError):
    """The message cannot be processed; ``reason`` goes to the dead-letter record."""

    def __init__(self, reason: str, errors: list[dict[str, str]] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as [{field, message}] — the shape of the API's 422 body."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"]) or "(message)"
        out.append({"field": loc, "message": err["msg"]})
    return out


def _reason(errors: list[dict[str, str]]) -> str:
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return f"schema: {shown}{more}"


def parse_report(raw: bytes, kind: str | None = None) -> Report:
    """Bytes from the bus -> a validated report, or InvalidMessage with a readable reason.

    ``kind`` pins the type (the topic says what it carries); without it the ``kind`` field decides.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"too large: {len(raw)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage(f"not UTF-8: byte {exc.start}: {exc.reason}") from None
    try:
        if kind is None:
            return _ANY_REPORT.validate_json(text, strict=True)
        model = MESSAGE_TYPES[kind]
        return model.model_validate_json(text, strict=True)  # type: ignore[return-value]
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise InvalidMessage(f"bad JSON: {exc.errors()[0]['msg']}") from None
        errors = field_errors(exc)
        raise InvalidMessage(_reason(errors), errors) from None


def validate_report(data: dict[str, Any], kind: str) -> Report:
    """A dict from the web API -> report; InvalidMessage carries field-level errors."""
    try:
        # JSON mode: the API body is JSON, so ISO strings are valid datetimes even in strict mode.
        return MESSAGE_TYPES[kind].model_validate_json(_json_dumps(data), strict=True)  # type: ignore[return-value]
    except ValidationError as exc:
        errors = field_errors(exc)
        raise InvalidMessage(_reason(errors), errors) from None


def _json_dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_bytes(message: _Message) -> bytes:
    """Wire form: compact JSON, UTF-8, unset optional fields left out."""
    return message.model_dump_json(exclude_none=True).encode("utf-8")


_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I, as core.ids.tracking_code
# Two base-32 digits (least significant first) per 10 bits: five lookups instead of ten divmods.
_CODE_PAIRS = [_CODE_ALPHABET[v & 31] + _CODE_ALPHABET[v >> 5] for v in range(1024)]


def tracking_code_for(report_id: str, key: bytes) -> str:
    """The code a citizen uses to follow a report: derived from report_id, so the API can hand it
    out before the worker has stored anything and a redelivered report keeps it. Keyed with the
    key ring's "tracking" key (the web process and the worker hold the same one): report ids are
    not secret (a client may choose its own), so an unkeyed hash would let anyone who knows or
    guesses an id follow that report. The stored row keeps the code it was given, so a rotated
    key changes only the codes of reports not stored yet (SECURITY.md)."""
    if len(key) < 16:
        raise ValueError("tracking key: at least 16 bytes")
    # blake2b takes at most 64 key bytes; key-ring keys are 32.
    n = int.from_bytes(hashlib.blake2b(report_id.encode("utf-8"), digest_size=8, key=key[:64],
                                       person=b"tw-tracking").digest(), "big")
    p = _CODE_PAIRS
    return f"TW-{p[n & 1023]}{p[n >> 10 & 1023]}{p[n >> 20 & 1023]}{p[n >> 30 & 1023]}{p[n >> 40 & 1023]}"
