"""Tier reviews on the regulator side: the reviews analysts asked for from alerts, listed with
filters, and each decided with a written justification: keep the tier, or override it (through
the override use case, as on the application page). The work is ``risk.reviews``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField

from tierwatch.core.errors import Conflict, Invalid, NotFound
from tierwatch.monitoring.alerts import service as alerts
from tierwatch.registry import service as registry
from tierwatch.risk import reviews
from tierwatch.risk import service as tiering
from tierwatch.risk.models import MIN_JUSTIFICATION, REVIEW_DECIDED, REVIEW_DECISIONS, REVIEW_OPEN
from tierwatch.risk.ruleset import TIER_ORDER
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.forms import BaseForm
from tierwatch.web.labels import label
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.regulator.blueprint import bp
from tierwatch.web.tiers import pick

DECIDERS = reviews.DECIDERS
JURISDICTIONS = ("cn-gd", "eu")
PAGE_SIZE = 50

bp.add_app_template_filter(pick, "pick")  # an alert's {"zh", "en"} texts in the visitor's language


class ReviewDecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), choices=[])
    jurisdiction = SelectField(_l("Regime"), choices=[], validate_choice=False)
    tier = RadioField(_l("Tier to set (for an override)"), choices=[], validate_choice=False)
    comment = TextAreaField(_l("Written justification"), render_kw={"rows": 4}, description=_l(
        "At least %(n)s characters; kept in the audit trail, and for an override shown beside the tier.",
        n=MIN_JUSTIFICATION))

    def setup(self, jurisdiction: str | None) -> ReviewDecisionForm:
        self.decision.choices = [(d, label(d, "review_decision")) for d in REVIEW_DECISIONS]
        self.jurisdiction.choices = [(j, label(j, "jurisdiction")) for j in JURISDICTIONS]
        self.tier.choices = [(t, label(t, "tier")) for t in TIER_ORDER]
        if not self.is_submitted():
            self.jurisdiction.data = jurisdiction or JURISDICTIONS[0]
        return self


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _choice(name: str, allowed: Any) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


@bp.get("/tier-reviews")
@allow(*DECIDERS)
def tier_reviews() -> str:
    # No status in the query: the open ones (what waits for a decision); "all" shows both.
    wanted = request.args.get("status", REVIEW_OPEN)
    status = wanted if wanted in (REVIEW_OPEN, REVIEW_DECIDED) else None
    jurisdiction, tier = _choice("jurisdiction", JURISDICTIONS), _choice("tier", TIER_ORDER)
    uow, actor, number = request_uow(), _actor(), page_number()
    counts = reviews.review_counts(uow, actor, jurisdiction=jurisdiction, tier=tier)
    rows = reviews.list_reviews(uow, actor, status=status, jurisdiction=jurisdiction, tier=tier, limit=PAGE_SIZE,
                                offset=offset(number, PAGE_SIZE))
    total = counts[status] if status else sum(counts.values())
    names = {a.id: a for a in registry.applications_by_id(uow, actor, {r.application_id for r in rows})}
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("regulator/tier_reviews.html", rows=rows, page=Page(rows, number, PAGE_SIZE, total),
                           counts=counts, status=status or "all", jurisdiction=jurisdiction, tier=tier, args=args,
                           names=names, jurisdictions=JURISDICTIONS, tiers=TIER_ORDER)


def _messages(errors: list[dict[str, str]], form: ReviewDecisionForm) -> list[dict[str, str]]:
    """The use case's field errors in the visitor's language."""
    text = {"decision": _("Choose one of the options."),
            "comment": _("Write at least %(n)s characters.", n=MIN_JUSTIFICATION),
            "justification": _("Write at least %(n)s characters.", n=MIN_JUSTIFICATION),
            "jurisdiction": _("Choose the regime whose tier is set."),
            "tier": _("Choose the tier to set.") if not form.tier.data else _("This regime has no such tier.")}
    # The override use case calls the comment its justification.
    return [{**e, "field": "comment" if e["field"] == "justification" else e["field"],
             "message": text.get(e["field"], e["message"])} for e in errors]


@bp.route("/tier-reviews/<int:review_id>", methods=["GET", "POST"])
@allow(*DECIDERS)
def tier_review(review_id: int) -> Any:
    uow, actor = request_uow(), _actor()
    review = reviews.get_review(uow, actor, review_id)
    if request.method == "POST" and review.status != REVIEW_OPEN:
        raise Conflict(f"tier review {review_id} was already decided")  # a stale page sent twice
    form = ReviewDecisionForm().setup(review.jurisdiction)
    if review.status == REVIEW_OPEN and form.validate_on_submit():
        decision = form.decision.data or ""
        try:
            reviews.decide_review(uow, actor, review_id, decision, form.comment.data or "",
                                  tier=(form.tier.data or None) if decision == "override" else None,
                                  jurisdiction=form.jurisdiction.data or None)
        except Invalid as exc:
            uow.rollback()
            form.pin_errors(_messages(exc.errors, form))
            review = reviews.get_review(uow, actor, review_id)
        else:
            uow.commit()
            flash(_("Decided: the tier is kept.") if decision == "keep"
                  else _("Decided: the tier is overridden. The company sees the new tier and its obligations."), "success")
            return redirect(url_for("regulator.tier_review", review_id=review_id), 303)
    app = registry.get_application(uow, actor, review.application_id)
    tiers = [t for t in (tiering.effective_tier(uow, app.id, j) for j in JURISDICTIONS) if t is not None]
    alert = None
    if review.raised_from_alert_id is not None:
        try:
            alert = alerts.get_alert(uow, actor, review.raised_from_alert_id)
        except NotFound:
            alert = None  # the review outlives an alert deleted with its history
    return render_template("regulator/tier_review.html", review=review, app=app, tiers=tiers, alert=alert,
                           form=form), 422 if form.errors else 200
