"""Report intake API: 202 with a tracking code once the broker has acknowledged the report."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, jsonify, request

from tierwatch.monitoring.intake import Receipt, build_report, submit_many, submit_report
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


def _build(kind: str, data: dict[str, Any], prefix: str = "") -> Report:
    user = current_user()
    server: dict[str, Any] = {}
    if kind == "scam" and user is None:
        server = {"reporter_type": "citizen", "source": "web"}  # anonymous: cannot claim to be a feed
    if kind == "incident" and user is not None and user.company is not None:
        server = {"company": user.company.name}
    try:
        return build_report(kind, data, **server)
    except InvalidMessage as exc:
        errors = exc.errors or [{"field": "(body)", "message": exc.reason}]
        raise Invalid([{"field": prefix + e["field"], "message": e["message"]} for e in errors]) from None


def _unavailable(exc: Exception) -> Any:
    log.warning("intake: broker did not acknowledge (%s: %s)", type(exc).__name__, exc)
    response = jsonify({"error": "unavailable", "message": "report not accepted; try again shortly"})
    response.headers["Retry-After"] = "5"
    return response, 503


@bp.post("/reports/scam")
def submit_scam() -> Any:
    """Anonymous allowed (citizens); a signed-in partner may send reporter_type=partner_feed."""
    report = _build("scam", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except Exception as exc:  # noqa: BLE001 - any broker failure means "not accepted"
        return _unavailable(exc)
    return jsonify(_receipt_json(receipt)), 202


@bp.post("/reports/incident")
@require_role("company", "regulator", "admin")
def submit_incident() -> Any:
    report = _build("incident", _json_object())
    try:
        receipt = submit_report(container_of(current_app).bus, report, _settings())
    except Exception as exc:  # noqa: BLE001
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
