"""The search-index document of a report. Reporter contact details never appear here."""

from __future__ import annotations

from typing import Any

from tierwatch.core.search import IndexSchema

REPORTS_INDEX = "reports"
# identifier kind -> the keyword field holding that kind's values (without the "kind:" prefix)
IDENTIFIER_FIELDS = {
    "phone": "ident_phone",
    "url": "ident_url",
    "domain": "ident_domain",
    "account": "ident_account",
    "payment_account": "ident_payment_account",
}
# Keyword fields that may hold several values in one document.
MULTI_VALUED = frozenset({"identifiers", "identifier_kinds", *IDENTIFIER_FIELDS.values()})

REPORTS_SCHEMA = IndexSchema(
    text=("description", "measures"),
    keyword=(
        "kind",
        "channel",
        "region",
        "scam_type",
        "identifiers",
        "identifier_kinds",
        "ai_technique",
        "app",
        "tier",
        "source",
        "reporter_type",
        "incident_type",
        "severity",
        "model_version",
        "application_id",
        "tracking_code",
        # The campaign a report joined, a keyed hash standing for the reporter (monitoring.reporters:
        # independent reporters counted without the index knowing who they are) and one field per
        # identifier kind, so a rule can count phone numbers without URLs.
        "campaign_id",
        "reporter_key",
        *IDENTIFIER_FIELDS.values(),
    ),
    date=("reported_at", "occurred_at", "received_at"),
    number=("amount_lost", "scam_probability", "affected_users"),
    boolean=("is_scam",),
)

# Columns of ``reports`` copied into the document as they are.
_COPIED = (
    "kind",
    "channel",
    "region",
    "scam_type",
    "ai_technique",
    "source",
    "reporter_type",
    "incident_type",
    "severity",
    "model_version",
    "tracking_code",
    "description",
    "measures",
    "reported_at",
    "occurred_at",
    "received_at",
    "amount_lost",
    "scam_probability",
    "affected_users",
    "is_scam",
)


def report_document(row: dict[str, Any], identifiers: list[str], tier: str | None = None) -> dict[str, Any]:
    """A stored report row (+ its "kind:value" identifiers) -> the document; id = report_id,
    so indexing the same report again replaces it instead of adding a second one."""
    doc: dict[str, Any] = {"id": row["report_id"]}
    for name in _COPIED:
        if row.get(name) is not None:
            doc[name] = row[name]
    if row.get("app_name"):
        doc["app"] = row["app_name"]
    if row.get("application_id") is not None:
        doc["application_id"] = str(row["application_id"])
    if tier:
        doc["tier"] = tier
    if row.get("ai_techniques"):
        # Every technique named: a filter or a count on one technique finds the report.
        doc["ai_technique"] = list(row["ai_techniques"])
    if row.get("reporter_key"):
        doc["reporter_key"] = row["reporter_key"]
    doc["identifiers"] = sorted(identifiers)
    doc["identifier_kinds"] = sorted({i.partition(":")[0] for i in identifiers})
    for kind, field_name in IDENTIFIER_FIELDS.items():
        values = sorted(v for k, _, v in (i.partition(":") for i in identifiers) if k == kind)
        if values:
            doc[field_name] = values
    if row.get("campaign_id") is not None:
        doc["campaign_id"] = str(row["campaign_id"])
    return doc
