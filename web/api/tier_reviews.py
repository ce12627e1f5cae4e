"""Tier reviews API: analysts' escalations asking a regulator to look at an application's tier
again (opened from the alerts API), listed and decided here. The work is `risk.reviews`."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from tierwatch.monitoring.alerts.schemas import DecisionIn
from tierwatch.risk import reviews
from tierwatch.risk.models import TierReview
from tierwatch.web.api.alert_schemas import TierReviewList, TierReviewOut, TierReviewQuery
from tierwatch.web.api.blueprint import bp
from tierwatch.web.api.common import actor, body, int_arg, iso, paging
from tierwatch.web.auth import REGULATOR_SIDE, allow, request_uow
from tierwatch.web.openapi import Error, operation


def review_json(r: TierReview) -> dict[str, Any]:
    return {"id": r.id, "application_id": r.application_id, "jurisdiction": r.jurisdiction,
            "tier_at_request": r.tier_at_request, "raised_from_alert_id": r.raised_from_alert_id,
            "reason": r.reason, "raised_by": r.raised_by, "status": r.status, "decision": r.decision,
            "decided_tier": r.decided_tier, "override_id": r.override_id, "decided_by": r.decided_by,
            "decided_at": iso(r.decided_at), "comment": r.comment, "created_at": iso(r.created_at)}


@bp.get("/tier-reviews")
@allow(*REGULATOR_SIDE)
@operation("Tier reviews asked for (from escalated alerts)", query=TierReviewQuery, responses={200: TierReviewList},
           tags=("tiers",))
def list_reviews() -> Any:
    limit, offset = paging(50, 500)
    items = reviews.list_reviews(request_uow(), actor(), status=request.args.get("status") or None,
                                 application_id=int_arg("application_id"), limit=limit, offset=offset)
    return jsonify({"items": [review_json(r) for r in items]})


@bp.get("/tier-reviews/<int:review_id>")
@allow(*REGULATOR_SIDE)
@operation("A tier review", responses={200: TierReviewOut, 404: Error}, tags=("tiers",))
def get_review(review_id: int) -> Any:
    return jsonify(review_json(reviews.get_review(request_uow(), actor(), review_id)))


@bp.post("/tier-reviews/<int:review_id>/decision")
@allow("regulator", "admin")
@operation("Decide a tier review: keep the tier, or override it (the comment is the justification)",
           body=DecisionIn, responses={200: TierReviewOut, 404: Error, 409: Error}, tags=("tiers",))
def decide_review(review_id: int) -> Any:
    data = body(DecisionIn)
    uow = request_uow()
    review = reviews.decide_review(uow, actor(), review_id, data.decision, data.comment, tier=data.tier,
                                   jurisdiction=data.jurisdiction)
    uow.commit()
    return jsonify(review_json(review))
