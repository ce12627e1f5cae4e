"""Analysts' verdicts on reports: they become the detector's training labels."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, jsonify, request
from pydantic import ValidationError

from tierwatch.antifraud import service as antifraud_service
from tierwatch.antifraud.models import AnalystLabel
from tierwatch.core.errors import Invalid, NotFound
from tierwatch.monitoring.store import find_report_id
from tierwatch.registry.schemas import field_errors
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, iso, paging
from tierwatch.web.api.schemas import LabelIn, LabelList, LabelOut, LabelQuery
from tierwatch.web.auth import REGULATOR_SIDE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.jsonio import json_body
from tierwatch.web.openapi import Error, operation

ANALYSTS = REGULATOR_SIDE


def label_json(label: AnalystLabel) -> dict[str, Any]:
    return {"id": label.id, "report_id": label.report_id, "is_scam": label.is_scam,
            "scam_type": label.scam_type, "ai_technique": label.ai_technique,
            "analyst": label.analyst, "note": label.note, "created_at": iso(label.created_at)}


@bp.post("/labels")
@allow(*ANALYSTS)
@operation("Label a report (by its tracking code or report_id) as scam or not", body=LabelIn,
           responses={201: LabelOut, 404: Error}, tags=("labels",))
def create_label() -> Any:
    data = json_body()
    if not isinstance(data, dict):
        raise Invalid.one("(body)", "expected a JSON object")
    try:
        # Strict, as intake is: "yes" is not true and "1" is not 1.
        wanted = LabelIn.model_validate(data, strict=True)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None
    report_id = find_report_id(request_uow().session, report_id=wanted.report_id, tracking_code=wanted.tracking_code)
    if report_id is None:
        raise NotFound(f"report {wanted.tracking_code or wanted.report_id} not found")
    analyst = actor().label  # who labelled is the caller, never the body
    label_id = antifraud_service.record_label(
        container_of(current_app).uow(), report_id, wanted.is_scam, analyst,
        wanted.scam_type, wanted.ai_technique, wanted.note,
    )
    return jsonify({"id": label_id, "report_id": report_id, "is_scam": wanted.is_scam,
                    "scam_type": wanted.scam_type, "ai_technique": wanted.ai_technique,
                    "analyst": analyst, "note": wanted.note}), 201


@bp.get("/labels")
@allow(*ANALYSTS)
@operation("Labels, newest first", query=LabelQuery, responses={200: LabelList}, tags=("labels",))
def list_labels() -> Any:
    limit, offset = paging(100, 1000)
    stmt = sa.select(AnalystLabel).order_by(AnalystLabel.id.desc()).limit(limit).offset(offset)
    if report_id := request.args.get("report_id"):
        stmt = stmt.where(AnalystLabel.report_id == report_id)
    return jsonify({"items": [label_json(l) for l in request_uow().session.scalars(stmt)]})
