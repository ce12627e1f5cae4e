"""Report intake API: 202 with a tracking code once the broker has acknowledged the report."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, jsonify

from tierwatch.monitoring.intake import INCIDENT_ROLES, Receipt, Submitter, submission, submit_many, submit_report
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
from tierwatch.web.reporters import reporter_key

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


def _build(kind: str, data: dict[str, Any], prefix: str = "") -> Report:
    try:
        return submission(request_uow().session, kind, data, submitter(data.get("reporter_contact")))
    except Invalid as exc:
        raise Invalid([{"field": prefix + e["field"], "message": e["message"]} for e in exc.errors]) from None
    except InvalidMessage as exc:
        errors = exc.errors or [{"field": "(body)", "message": exc.reason}]
        raise Invalid([{"field": prefix + e["field"], "message": e["message"]} for e in errors]) from None


def _unavailable(exc: Exception) -> Any:
    log.warning("intake: broker did not acknowledge (%s: %s)", type(exc).__name__, exc)
    response = jsonify({"error": "unavailable", "message": "report not accepted; try again shortly"})
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
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except Exception as exc:  # noqa: BLE001 - any broker failure means "not accepted"
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
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except Exception as exc:  # noqa: BLE001
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
            reports.append(_build(str(item.get("kind")), item, prefix=f"reports.{i}."))
        except Invalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise Invalid(errors)
    try:
        receipts = submit_many(container_of(current_app).bus, reports, _settings())
    except Exception as exc:  # noqa: BLE001
        return _unavailable(exc)
    return jsonify({"accepted": len(receipts), "receipts": [_receipt_json(r) for r in receipts]}), 202
