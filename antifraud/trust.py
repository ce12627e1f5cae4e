"""How much one reporter counts in an identifier's reputation.

An identifier's reputation for the detectors is not how many reports named it but how many
*independent* reporters did, each weighted by how well we know who they are: otherwise one person
sending 50 reports about a rival's phone number would weigh like 50 victims. Reporters are told
apart by the report's ``reporter_key`` (monitoring.reporters: the account, else the contact,
else the address); a reporter counts once per identifier, with the weight of the first of its
reports that named it.

Weights, by what the intake set on the report (never by what the body claimed):
- VERIFIED, 1: an accountable account — a partner feed, a company, regulator staff (a staff
  member's scam report is a citizen report with source "regulator");
- KNOWN, 0.5: a reporter known only through a channel — a citizen report relayed on the bus under
  a producer's own source name, or one whose reporter type is not given (older data);
- ANONYMOUS, 0.25: a citizen on the public form or API without an account (source "web"), whose
  contact details, if any, are the reporter's own word.
There is no citizen account yet; a signed-in citizen would get KNOWN.
"""

from __future__ import annotations

VERIFIED, KNOWN, ANONYMOUS = 1.0, 0.5, 0.25

# Sources the intake sets for citizen reports (monitoring.intake.submission).
ANONYMOUS_SOURCE, STAFF_SOURCE = "web", "regulator"


def reporter_weight(reporter_type: str | None, source: str | None) -> float:
    if reporter_type in ("partner_feed", "company"):
        return VERIFIED
    if reporter_type == "citizen":
        if source == STAFF_SOURCE:
            return VERIFIED
        if source == ANONYMOUS_SOURCE:
            return ANONYMOUS
    return KNOWN


def reporter_identity(reporter_key: str | None, report_id: str) -> str:
    """Who the reporter is for counting: its key, else the report itself (a report whose
    reporter is unknown can only count as one reporter of its own)."""
    return reporter_key or f"report:{report_id}"
