"""Report intake API: 202 with a tracking code once the broker has acknowledged the report.

Clients may send an ``Idempotency-Key`` header (or their own ``report_id``): a retry with the
same key gets the same report_id and tracking code and never files a second report, whatever
became of the first attempt (monitoring/intake.py). A 503 says so and names the ids to retry with.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, jsonify, request

from tierwatch.monitoring.intake import NotAcknowledged, Receipt, build_report, submit_many, submit_report
from tierwatch.monitoring.messages import InvalidMessage, Report
from tierwatch.core.settings import IntakeSettings
from tierwatch.core.errors import Invalid
from tierwatch.web.context import container_of
from tierwatch.web.api.blueprint import bp
from tierwatch.web.auth import current_user, require_role

log = logging.getLogger(__name__)
MAX_BULK = 1000


def _settings() -> IntakeSettings:
    return container_of(current_app).settings.intake


def _json_object() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid.one("(body)", "expected a JSON object")
    return data


def _receipt_json(receipt: Receipt) -> dict[str, str]:
    return {"report_id": receipt.report_id, "tracking_code": receipt.tracking_code}


def _build(kind: str, data: dict[str, Any], prefix: str = "", purpose: str | None = None) -> Report:
    user = current_user()
    server: dict[str, Any] = {}
    if kind == "scam" and user is None:
        server = {"reporter_type": "citizen", "source": "web"}  # anonymous: cannot claim to be a feed
    if kind == "incident" and user is not None and user.company is not None:
        server = {"company": user.company.name}
    key = request.headers.get("Idempotency-Key")
    sender = f"user:{user.id}" if user is not None else "anonymous"
    try:
        return build_report(kind, data, idempotency_key=key, sender=sender, purpose=purpose, **server)
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
def submit_scam() -> Any:
    """Anonymous allowed (citizens); a signed-in partner may send reporter_type=partner_feed."""
    report = _build("scam", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except NotAcknowledged as exc:
        return _unavailable(exc)
    return jsonify(_receipt_json(receipt)), 202


@bp.post("/reports/incident")
@require_role("company", "regulator", "admin")
def submit_incident() -> Any:
    report = _build("incident", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except NotAcknowledged as exc:
        return _unavailable(exc)
    return jsonify(_receipt_json(receipt)), 202


@bp.post("/reports/bulk")
@require_role()
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
        receipts = submit_many(container_of(current_app).bus, reports, _settings())
    except NotAcknowledged as exc:
        return _unavailable(exc, bulk=True)
    return jsonify({"accepted": len(receipts), "receipts": [_receipt_json(r) for r in receipts]}), 202
