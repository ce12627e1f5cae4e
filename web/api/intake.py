"""Report intake API: 202 with a tracking code once the broker has acknowledged the report.

Clients may send an ``Idempotency-Key`` header (or their own ``report_id``): a retry with the
same key gets the same report_id and tracking code and never files a second report, whatever
became of the first attempt (monitoring/intake.py). A 503 says so and names the ids to retry with.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, jsonify, request

from tierwatch.monitoring.intake import (
    INCIDENT_ROLES, NotAcknowledged, Receipt, Submitter, submission, submit_many, submit_report,
)
from tierwatch.monitoring.messages import InvalidMessage, Report
from tierwatch.core.settings import IntakeSettings
from tierwatch.core.errors import Invalid
from tierwatch.web.context import container_of
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.schemas import BulkIn, BulkReceiptOut, IncidentReportIn, ReceiptOut, ScamReportIn
from tierwatch.web.auth import ANYONE, SIGNED_IN, allow, allows_report_scope, current_user, request_uow
from tierwatch.web.jsonio import json_body
from tierwatch.web.limits import rate_limit
from tierwatch.web.openapi import Error, operation
from tierwatch.web.reporters import reporter_key, tracking_key

log = logging.getLogger(__name__)
MAX_BULK = 1000


def _settings() -> IntakeSettings:
    return container_of(current_app).settings.intake


def _json_object() -> dict[str, Any]:
    data = json_body()
    if not isinstance(data, dict):
        raise Invalid.one("(body)", "expected a JSON object")
    return data


def _receipt_json(receipt: Receipt) -> dict[str, str]:
    return {"report_id": receipt.report_id, "tracking_code": receipt.tracking_code}


def submitter(contact: Any = None) -> Submitter:
    user = current_user()
    if user is None:
        return Submitter(reporter_key=reporter_key(contact))
    return Submitter(role=user.role, company_id=user.company_id,
                     company_name=user.company.name if user.company is not None else None,
                     feed_name=user.name if user.role == "partner" else None,
                     reporter_key=reporter_key())


def _build(kind: str, data: dict[str, Any], prefix: str = "", purpose: str | None = None) -> Report:
    user = current_user()
    sender = f"user:{user.id}" if user is not None else "anonymous"  # keys are scoped by sender
    try:
        return submission(request_uow().session, kind, data, submitter(data.get("reporter_contact")),
                          idempotency_key=request.headers.get("Idempotency-Key"), sender=sender, purpose=purpose)
    except Invalid as exc:
        raise Invalid([{"field": prefix + e["field"], "message": e["message"]} for e in exc.errors]) from None
    except InvalidMessage as exc:
        errors = exc.errors or [{"field": "(body)", "message": exc.reason}]
        raise Invalid([e if e["field"] == "Idempotency-Key" else {"field": prefix + e["field"], "message": e["message"]}
                       for e in errors]) from None


def _unavailable(exc: NotAcknowledged, *, bulk: bool = False) -> Any:
    log.warning("intake: broker did not acknowledge %d report(s) (%s)", len(exc.receipts), exc)
    body: dict[str, Any] = {
        "error": "unavailable",
        "message": "The report was not confirmed in time. It may still arrive: retry with the same "
                   "Idempotency-Key header, or with the report_id given here in the body, so that it is "
                   "never filed twice.",
    }
    if bulk:
        body["report_ids"] = [r.report_id for r in exc.receipts]
    else:
        body["report_id"] = exc.receipts[0].report_id
    response = jsonify(body)
    response.headers["Retry-After"] = "5"
    return response, 503


@bp.post("/reports/scam")
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT")
@allows_report_scope
@operation("Report a scam (no account needed)", body=ScamReportIn, responses={202: ReceiptOut, 503: Error},
           tags=("reports",))
def submit_scam() -> Any:
    """Anonymous allowed (citizens); who reported is set from the account (a partner feed's
    reports are partner_feed with the feed's name as source)."""
    report = _build("scam", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings(), tracking_key())
    except NotAcknowledged as exc:
        return _unavailable(exc)
    return jsonify(_receipt_json(receipt)), 202


@bp.post("/reports/incident")
@allow(*INCIDENT_ROLES)
@allows_report_scope
@operation("Report an incident of a registered application", body=IncidentReportIn,
           responses={202: ReceiptOut, 503: Error}, tags=("reports",))
def submit_incident() -> Any:
    report = _build("incident", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings(), tracking_key())
    except NotAcknowledged as exc:
        return _unavailable(exc)
    return jsonify(_receipt_json(receipt)), 202


@bp.post("/reports/bulk")
@allow(*SIGNED_IN)
@allows_report_scope
@operation("Send up to 1,000 reports at once: all valid, or none published", body=BulkIn,
           responses={202: BulkReceiptOut, 503: Error}, tags=("reports",))
def submit_bulk() -> Any:
    """{"reports": [{"kind": "scam"|"incident", ...}, ...]}: all valid or none published."""
    items = _json_object().get("reports")
    if not isinstance(items, list) or not items:
        raise Invalid.one("reports", "expected a non-empty list")
    if len(items) > MAX_BULK:
        raise Invalid.one("reports", f"at most {MAX_BULK} reports per request")
    reports, errors = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"field": f"reports.{i}", "message": "expected an object"})
            continue
        try:
            reports.append(_build(str(item.get("kind")), item, prefix=f"reports.{i}.", purpose=f"bulk#{i}"))
        except Invalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise Invalid(list({(e["field"], e["message"]): e for e in errors}.values()))  # a bad key once
    try:
        receipts = submit_many(container_of(current_app).bus, reports, _settings(), tracking_key())
    except NotAcknowledged as exc:
        return _unavailable(exc, bulk=True)
    return jsonify({"accepted": len(receipts), "receipts": [_receipt_json(r) for r in receipts]}), 202
