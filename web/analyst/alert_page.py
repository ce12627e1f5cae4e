"""One alert: summary, state and SLA, the matching reports with their detector scores and
explanations, identifiers, campaigns, the linked applications with their tiers, the timeline,
what was held back, and only the triage steps its state allows; "escalate as public warning"
drafts a de-identified warning for a regulator to publish."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tierwatch.core.clock import utcnow
from tierwatch.core.errors import Conflict, Invalid
from tierwatch.monitoring.alerts import console, service, triage
from tierwatch.web.analyst.alerts import TRIAGERS, actor, notifier
from tierwatch.web.analyst.blueprint import bp
from tierwatch.web.analyst.forms import TriageForm
from tierwatch.web.auth import allow, request_uow
from tierwatch.web.analyst.text import explanation, in_language
from tierwatch.web.forms import BaseForm
from tierwatch.web.labels import label

# URL step -> the use case's action (the JSON API's steps, "comment" singular on a page)
STEPS = {"acknowledge": "acknowledge", "comment": "comment", "assign": "assign", "escalate": "escalate",
         "resolve": "resolve", "false-positive": "false_positive", "reopen": "reopen"}
STEP_OF = {action: step for step, action in STEPS.items()}
# What each action's form shows besides its button, in order.
FIELDS = {"acknowledge": ("comment",), "comment": ("comment",), "assign": ("assignee_id", "comment"),
          "escalate": ("reason", "tier_review", "comment"), "resolve": ("label_reports", "scam_type", "comment"),
          "false_positive": ("reason", "label_reports", "mute_days"), "reopen": ("reason",)}
BUTTON = {"acknowledge": _l("Acknowledge"), "comment": _l("Add the comment"), "assign": _l("Assign"),
          "escalate": _l("Escalate"), "resolve": _l("Resolve"), "false_positive": _l("Mark as false positive"),
          "reopen": _l("Reopen")}
TITLE = {"acknowledge": _l("Acknowledge"), "comment": _l("Comment"), "assign": _l("Assignment"),
         "escalate": _l("Escalate"), "resolve": _l("Resolve: it was a scam"),
         "false_positive": _l("False positive"), "reopen": _l("Reopen")}
# A use case's field error -> the message the page shows (its own are English).
FIELD_MESSAGES = {"comment": _l("Write the comment."), "reason": _l("Give a reason."),
                  "assignee_id": _l("Choose an active analyst, regulator or administrator."),
                  "tier_review": _l("This alert is not linked to a registered application: there is no tier to review."),
                  "mute_days": _l("Between 0 and 30 days."), "label_reports": _l("Choose one of the options.")}
def _forms(alert: Any, staff: list[Any], posted: TriageForm | None, posted_action: str | None) -> dict[str, TriageForm]:
    forms = {}
    for action in triage.allowed_actions(alert.state, alert.acknowledged_at is not None):
        if action == posted_action and posted is not None:
            forms[action] = posted
        else:
            forms[action] = TriageForm(prefix=action, formdata=None).setup(staff, action)
            if action == "assign" and alert.assignee_id is not None:
                forms[action].assignee_id.data = str(alert.assignee_id)
    return forms


def render(alert_id: int, posted: TriageForm | None = None, posted_action: str | None = None,
           status: int = 200) -> Any:
    me = actor()
    uow = request_uow()
    detail = service.alert_detail(uow, me, alert_id)
    staff = console.staff(uow, me)
    alert = detail.alert
    late_ack, late_resolve = triage.overdue(alert.state, alert.acknowledged_at, alert.ack_due_at,
                                            alert.resolve_due_at, utcnow())
    return render_template(
        "analyst/alert.html", alert=alert, detail=detail, reports=detail.reports,
        campaigns=console.campaigns(uow, me, alert, detail.reports),
        applications=console.linked_applications(uow, me, alert), staff={u.id: u for u in staff},
        late_ack=late_ack or alert.overdue_ack, late_resolve=late_resolve or alert.overdue_resolve,
        forms=_forms(alert, staff, posted, posted_action), fields=FIELDS, button=BUTTON, titles=TITLE,
        step_of=STEP_OF, warning=BaseForm(), may_warn=alert.state not in console.NO_WARNING_FROM,
        explanation=explanation, in_language=in_language), status


@bp.get("/alerts/<int:alert_id>")
@allow(*TRIAGERS)
def alert(alert_id: int) -> Any:
    return render(alert_id)


@bp.post("/alerts/<int:alert_id>/<any('acknowledge', 'comment', 'assign', 'escalate', 'resolve', 'false-positive', 'reopen'):step>")
@allow(*TRIAGERS)
def alert_action(alert_id: int, step: str) -> Any:
    action = STEPS[step]
    me = actor()
    uow = request_uow()
    form = TriageForm(prefix=action).setup(console.staff(uow, me), action)
    if not form.validate_on_submit():
        return render(alert_id, form, action, 422)
    try:
        service.act(uow, me, alert_id, service.Action(action, **form.action_fields(action)), notifier())
    except Invalid as exc:
        uow.rollback()
        left = form.pin_errors([{**e, "message": str(FIELD_MESSAGES.get(e["field"], e["message"]))}
                                for e in exc.errors], only=set(FIELDS[action]))
        if left:
            flash(" ".join(e["message"] for e in left), "error")
        return render(alert_id, form, action, 422)
    except Conflict:
        uow.rollback()
        current = service.get_alert(uow, me, alert_id)
        if action in triage.allowed_actions(current.state, current.acknowledged_at is not None):
            flash(_("A newer alert for the same key is live: work on that one."), "error")
        else:
            flash(_("This step is not open while the alert is %(state)s.", state=_state_text(current.state)), "error")
        return redirect(url_for("analyst.alert", alert_id=alert_id), 303)
    uow.commit()
    flash(_("Done: %(step)s.", step=TITLE[action]), "success")
    return redirect(url_for("analyst.alert", alert_id=alert_id), 303)


def _state_text(state: str) -> str:
    return label(state, "alert_state")


@bp.post("/alerts/<int:alert_id>/warning")
@allow(*TRIAGERS)
def draft_warning(alert_id: int) -> Any:
    me = actor()
    uow = request_uow()
    if not BaseForm().validate_on_submit():
        service.get_alert(uow, me, alert_id)  # an unknown alert is still a 404
        flash(_("The form had expired: nothing was done. Try again."), "error")
        return redirect(url_for("analyst.alert", alert_id=alert_id), 303)
    try:
        publication = console.draft_warning(uow, me, alert_id)
    except Conflict:
        uow.rollback()
        flash(_("An alert that is pending or withdrawn gives no warning."), "error")
        return redirect(url_for("analyst.alert", alert_id=alert_id), 303)
    uow.commit()
    flash(_("Warning draft #%(id)s written from this alert, with identifiers masked. A regulator reviews and "
            "publishes it.", id=publication.id), "success")
    return redirect(url_for("analyst.alert", alert_id=alert_id) + "#timeline", 303)
