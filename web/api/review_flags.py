"""The regulator's review queue of flagged filings (risk.flags), for the regulator console:
list it with the evidence, clear an application's flags with a written note. Not the tier
reviews raised from alerts."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.core.errors import Invalid
from tierwatch.registry.schemas import ReasonIn
from tierwatch.risk import flags
from tierwatch.risk.engine import FLAG_KINDS
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, iso, paging
from tierwatch.web.api.schemas import FlagsClearedOut, ReviewQueueOut, ReviewQueueQuery
from tierwatch.web.auth import allow, request_uow
from tierwatch.web.openapi import operation

TAGS = ("tiers",)


@bp.get("/review-queue")
@allow("regulator", "analyst", "admin")
@operation("The review queue: flagged current assessments with their evidence, not yet cleared",
           query=ReviewQueueQuery, responses={200: ReviewQueueOut}, tags=TAGS)
def review_queue() -> Any:
    limit, offset = paging(50, 500)
    kind = request.args.get("kind") or None
    if kind and kind not in FLAG_KINDS:
        raise Invalid.one("kind", f"one of {', '.join(FLAG_KINDS)}")
    queue = flags.review_queue(request_uow(), actor(), request.args.get("jurisdiction") or None, kind,
                               limit, offset)
    return jsonify({"items": [i.as_dict() for i in queue.items], "total": queue.total, "by_kind": queue.by_kind,
                    "limit": limit, "offset": offset})


@bp.post("/applications/<int:app_id>/tiers/<jurisdiction>/flags/clear")
@allow("regulator", "admin")
@operation("Clear an assessment's review flags, with a written reason", body=ReasonIn,
           responses={200: FlagsClearedOut}, tags=TAGS)
def clear_review_flags(app_id: int, jurisdiction: str) -> Any:
    uow = request_uow()
    row = flags.clear_flags(uow, actor(), app_id, jurisdiction, body(ReasonIn).reason or "")
    uow.commit()
    return jsonify({"application_id": app_id, "jurisdiction": jurisdiction, "assessment_id": row.id,
                    "reviewed_at": iso(row.flags_reviewed_at), "reviewed_by": row.flags_reviewed_by})
