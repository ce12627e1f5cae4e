"""Analysts' verdicts on reports: they become the detector's training labels."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, jsonify, request

from tierwatch.antifraud import service as antifraud_service
from tierwatch.antifraud.models import AnalystLabel
from tierwatch.antifraud.schemas import LabelIn
from tierwatch.monitoring.models import Report
from tierwatch.core.errors import NotFound
from tierwatch.registry.schemas import parse
from tierwatch.web.context import container_of
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, iso, paging
from tierwatch.web.auth import request_uow, require_role

ANALYSTS = ("analyst", "regulator", "admin")


def label_json(label: AnalystLabel) -> dict[str, Any]:
    return {"id": label.id, "report_id": label.report_id, "is_scam": label.is_scam,
            "scam_type": label.scam_type, "ai_technique": label.ai_technique,
            "analyst": label.analyst, "note": label.note, "created_at": iso(label.created_at)}


@bp.post("/labels")
@require_role(*ANALYSTS)
def create_label() -> Any:
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        data = {**data, "analyst": actor().label}  # who labelled is the caller, never the body
    label = parse(LabelIn, data)
    uow = request_uow()
    if uow.session.scalar(sa.select(Report.id).where(Report.report_id == label.report_id)) is None:
        raise NotFound(f"report {label.report_id} not found")
    label_id = antifraud_service.record_label(
        container_of(current_app).uow(), label.report_id, label.is_scam, label.analyst,
        label.scam_type, label.ai_technique, label.note,
    )
    return jsonify({"id": label_id, **label.model_dump()}), 201


@bp.get("/labels")
@require_role(*ANALYSTS)
def list_labels() -> Any:
    limit, offset = paging(100, 1000)
    stmt = sa.select(AnalystLabel).order_by(AnalystLabel.id.desc()).limit(limit).offset(offset)
    if report_id := request.args.get("report_id"):
        stmt = stmt.where(AnalystLabel.report_id == report_id)
    return jsonify({"items": [label_json(l) for l in request_uow().session.scalars(stmt)]})
