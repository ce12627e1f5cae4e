"""The review queue and an application's page on the regulator side: the record, the diff
between versions, the tiers under both regimes with the override, the reports and alerts linked
to it with the company's answers, and the workflow steps the filing's state allows."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, TextAreaField

from tierwatch.core.clock import utcnow
from tierwatch.core.errors import Conflict, Forbidden, Invalid
from tierwatch.monitoring import queries, replies
from tierwatch.monitoring.alerts import service as alerting
from tierwatch.registry import audit, service, versions, workflow
from tierwatch.registry.regions import AREAS, area_label, area_of
from tierwatch.registry.vocab import DOMAINS
from tierwatch.risk import reviews
from tierwatch.risk import service as tiering
from tierwatch.risk.models import MIN_JUSTIFICATION
from tierwatch.risk.queue import QueueFilter, review_queue
from tierwatch.risk.ruleset import TIER_ORDER
from tierwatch.web import filing
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.forms import BaseForm, options
from tierwatch.web.i18n import current_language
from tierwatch.web.labels import label
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.regulator.blueprint import bp
from tierwatch.web.tiers import tier_views
from tierwatch.web.validation import localise

PAGE_SIZE = 50
# Workflow action -> what its button says.
ACTION_TEXT = {"start_review": _l("Start review"), "approve": _l("Approve"), "return": _l("Return with comments"),
               "reject": _l("Reject")}


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _queue_filter() -> QueueFilter:
    """The query string as filters; a value that is not one of the choices is ignored."""
    args = request.args
    def choice(name: str, allowed: Any) -> str | None:
        value = args.get(name) or None
        return value if value in allowed else None
    age = args.get("min_age_days", "")
    return QueueFilter(status=choice("status", workflow.STATUSES), tier=choice("tier", TIER_ORDER),
                       jurisdiction=choice("jurisdiction", ("cn-gd", "eu")), domain=choice("domain", DOMAINS),
                       area=choice("area", AREAS), q=(args.get("q") or "").strip()[:100] or None,
                       min_age_days=int(age) if age.isascii() and age.isdigit() and len(age) < 5 else None)


@bp.get("/queue")
@allow("regulator", "admin")
def queue() -> str:
    f = _queue_filter()
    number = page_number()
    result = review_queue(request_uow(), _actor(), f, utcnow(), limit=PAGE_SIZE, offset=offset(number, PAGE_SIZE))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    language = current_language()
    return render_template("regulator/queue.html", f=f, result=result, page=Page(result.rows, number, PAGE_SIZE, result.total),
                           args=args, statuses=workflow.STATUSES, tiers=TIER_ORDER,
                           domains=[(c, label(c, "domain")) for c in DOMAINS],
                           areas=[(c, area_label(c, language)) for c in AREAS], area_label=area_label,
                           language=language)


class DecisionForm(BaseForm):
    action = HiddenField()
    reason = TextAreaField(_l("Comment to the company"), description=_l("Required to return or reject; the company sees it."))


class OverrideForm(BaseForm):
    jurisdiction = SelectField(_l("Regime"), choices=[], validate_choice=False)
    tier = RadioField(_l("Tier to set"), choices=[], validate_choice=False)
    justification = TextAreaField(_l("Written justification"), description=_l(
        "At least %(n)s characters; kept in the audit trail and shown beside the tier.", n=MIN_JUSTIFICATION))


def _allowed_actions(status: str) -> list[str]:
    return [a for a, t in workflow.TRANSITIONS.items() if status in t.sources and "regulator" in t.roles]


def _render(app_id: int, decision: DecisionForm | None = None, override: OverrideForm | None = None,
            status: int = 200) -> Any:
    uow = request_uow()
    actor = _actor()
    app = service.get_application(uow, actor, app_id)
    latest = service.latest_version(app)
    before, after = request.args.get("before", type=int), request.args.get("after", type=int)
    diff = versions.compare(uow, actor, app_id, before, after)
    explained = [tiering.explain(uow, r) for r in tiering.current_assessments(uow, app_id)]
    override = override or OverrideForm()
    override.jurisdiction.choices = options((e["jurisdiction"], label(e["jurisdiction"], "jurisdiction")) for e in explained)
    override.tier.choices = options((t, label(t, "tier")) for t in TIER_ORDER)
    reports, report_total = queries.application_reports(uow, actor, app_id)
    answers = replies.replies_for(uow, actor, app_id)
    alerts, alert_total = alerting.alerts_for_application(uow, actor, app_id)
    # The company's answers about one alert go beside it; the others beside the reports.
    alert_answers: dict[str, list[Any]] = {}
    # A review asked for from an alert, whether by the alert's escalation or directly.
    alert_reviews = {r.raised_from_alert_id: r.id for r in reviews.list_reviews(uow, actor, application_id=app_id)
                     if r.raised_from_alert_id is not None}
    for answer in answers:
        if answer.subject == "alert":
            alert_answers.setdefault(answer.subject_ref, []).append(answer)
    entries = audit.list_entries(uow, entity="application", entity_id=app_id, limit=50)
    return render_template(
        "regulator/application.html", app=app, latest=latest, diff=diff,
        tiers=tier_views(explained, tiering.overrides_of(uow, app_id)), overrides=tiering.overrides_of(uow, app_id), reports=reports, report_total=report_total,
        answers=[a for a in answers if a.subject != "alert"], alerts=alerts, alert_total=alert_total,
        alert_answers=alert_answers, alert_reviews=alert_reviews,
        actions=_allowed_actions(latest.status), action_text=ACTION_TEXT, decision=decision or DecisionForm(),
        override=override, filing=filing, fields=service.version_fields(latest), steps=filing.sections(),
        entries=entries, shown=audit.shown_actors(uow, entries, actor),
        area=area_label(area_of(app.company.credit_code), current_language())), status


@bp.get("/applications/<int:app_id>")
@allow("regulator", "admin")
def application(app_id: int) -> Any:
    return _render(app_id)


@bp.post("/applications/<int:app_id>/decide")
@allow("regulator", "admin")
def decide(app_id: int) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data or ""
    if action not in ACTION_TEXT:
        abort(400)
    uow = request_uow()
    try:
        app = service.transition(uow, _actor(), app_id, action, (form.reason.data or "").strip() or None)
    except Invalid as exc:
        uow.rollback()
        form.pin_errors([{**e, "message": _("A comment is required for this step.")} if e["field"] == "reason" else e
                         for e in exc.errors])
        return _render(app_id, decision=form, status=422)
    except (Conflict, Forbidden) as exc:
        uow.rollback()
        flash(str(exc) if isinstance(exc, Conflict) else _("You filed or submitted this version: another regulator decides."), "error")
        return redirect(url_for("regulator.application", app_id=app_id), 303)
    uow.commit()
    if action == "approve":
        flash(_("Approved. Filing number %(number)s.", number=app.filing_number), "success")
    else:
        flash(_("Done: %(status)s.", status=label(app.status, "status")), "success")
    return redirect(url_for("regulator.application", app_id=app_id), 303)


@bp.post("/applications/<int:app_id>/override")
@allow("regulator", "admin")
def override(app_id: int) -> Any:
    form = OverrideForm()
    uow = request_uow()
    if form.validate_on_submit():
        service.get_application(uow, _actor(), app_id)
        try:
            tiering.override_tier(uow, app_id, form.jurisdiction.data or "", form.tier.data or "",
                                  form.justification.data or "", _actor())
        except Invalid as exc:
            uow.rollback()
            errors = [{**e, "message": _("Write at least %(n)s characters.", n=MIN_JUSTIFICATION)}
                      if e["field"] == "justification" else e for e in exc.errors]
            form.pin_errors(localise(errors))
        else:
            uow.commit()
            flash(_("The tier is set. The company sees the new tier and its obligations."), "success")
            return redirect(url_for("regulator.application", app_id=app_id) + "#tiers", 303)
    return _render(app_id, override=form, status=422)
