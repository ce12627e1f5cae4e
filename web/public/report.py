"""Report a scam: a wizard of short steps (what happened, how, their numbers and accounts, money,
contact details), a preview, then the intake (bus -> worker), and the tracking code.

One URL, POST between steps; every answer travels in the form itself (hidden fields), so a
phone without JavaScript, a reload or a back button loses nothing and nothing is kept on the
server until the report is sent. The token the form was first shown with (``submission_id``) is
the report's idempotency key, so sending it twice makes one report with one tracking code.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tierwatch.core.errors import Invalid
from tierwatch.monitoring.intake import Submitter, submission, submit_report
from tierwatch.monitoring.messages import InvalidMessage
from tierwatch.web.auth import ANYONE, allow, current_user, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.limits import rate_limit
from tierwatch.web.public.blueprint import bp
from tierwatch.web.public.forms import ReportForm
from tierwatch.web.reporters import reporter_key, tracking_key

log = logging.getLogger(__name__)


@bp.route("/report", methods=["GET", "POST"])
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT", methods=["POST"])
def report() -> Any:
    form = ReportForm().setup()
    if request.method == "GET" or not form.submission_id.data:
        form = ReportForm(formdata=None).setup()
        form.submission_id.data = secrets.token_urlsafe(18)
        return _page(form)
    action = request.form.get("action", "next")
    step = form.current_step
    if action == "back":
        return _page(form, _neighbour(form, step, -1))
    if action.startswith("edit:") and action[5:] in form.STEPS:
        return _page(form, action[5:])
    if action == "send":
        return _send(form)
    if not form.validate_step(step):
        return _page(form, step, status=422)
    return _page(form, _neighbour(form, step, +1))


def _neighbour(form: ReportForm, step: str, offset: int) -> str:
    index = min(max(form.STEPS.index(step) + offset, 0), len(form.STEPS) - 1)
    return form.STEPS[index]


def _page(form: ReportForm, step: str | None = None, *, status: int = 200, problems: list[str] | None = None) -> Any:
    step = step or form.current_step
    form.step.data = step
    return render_template("public/report.html", form=form, step=step, problems=problems or []), status


def _send(form: ReportForm) -> Any:
    every_step_ok = all([form.validate_step(s) for s in form.STEPS])  # a list: every field checked
    if not every_step_ok:
        return _page(form, form.first_step_with_errors(), status=422)
    data = form.report_data()
    user = current_user()
    try:
        # The form's token is the idempotency key (monitoring.intake): a second send, a reload or
        # a double tap gives the same report_id and tracking code, and the worker stores it once.
        report = submission(request_uow().session, "scam", data,
                            Submitter(reporter_key=reporter_key(data.get("reporter_contact"))),
                            idempotency_key=form.submission_id.data, purpose="scam-form",
                            sender=f"user:{user.id}" if user is not None else "anonymous")
    except (Invalid, InvalidMessage) as exc:
        errors = exc.errors if isinstance(exc, Invalid) else exc.errors or [{"field": "(body)", "message": exc.reason}]
        left = form.pin_errors([{"field": e["field"], "message": _("Please check this answer.")} for e in errors])
        return _page(form, form.first_step_with_errors() or "preview", status=422,
                     problems=[_("Please check your answers.")] if left else [])
    try:
        receipt = submit_report(container_of(current_app).bus, report, container_of(current_app).settings.intake,
                                tracking_key())
    except Exception as exc:  # noqa: BLE001 - any broker failure means "not accepted"
        log.warning("report form: broker did not acknowledge (%s: %s)", type(exc).__name__, exc)
        return _page(form, "preview", status=503, problems=[
            _("Your report could not be sent just now. Nothing is lost: please press Send again in a minute.")])
    return redirect(url_for("public.status", tracking_code=receipt.tracking_code, sent=1), 303)
