"""The right of reply in the company portal: applications named in scam reports or in alerts
lately, and the company's answer on the record."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from tierwatch.core.clock import utcnow
from tierwatch.core.errors import Invalid
from tierwatch.monitoring import replies
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.company.blueprint import bp
from tierwatch.web.forms import BaseForm


class ReplyForm(BaseForm):
    text = TextAreaField(_l("Your answer"), description=_l(
        "What you found and what you did about it. It goes on the record; the regulator reads it beside the reports."))


ALERT_HINT = _l("What you found and what you did about it. It goes on the record; the regulator reads it beside the alert.")


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _page(form: ReplyForm | None = None, failed: str | None = None, status: int = 200) -> Any:
    uow, now = request_uow(), utcnow()
    return render_template("company/notices.html", notices=replies.notices(uow, _actor(), now),
                           alert_notices=replies.alert_notices(uow, _actor(), now), form=form or ReplyForm(),
                           failed=failed, days=replies.WINDOW_DAYS, alert_hint=ALERT_HINT), status


@bp.get("/notices")
@allow("company")
def notices() -> Any:
    return _page()


@bp.post("/notices/<int:app_id>/reply")
@allow("company")
def reply(app_id: int) -> Any:
    form = ReplyForm()
    if form.validate_on_submit():
        uow = request_uow()
        try:
            replies.reply(uow, _actor(), app_id, form.text.data or "", utcnow())
        except Invalid:
            form.text.errors = [_("Write between %(a)s and %(b)s characters.", a=replies.MIN_REPLY, b=replies.MAX_REPLY)]
        else:
            uow.commit()
            flash(_("Your answer is on the record."), "success")
            return redirect(url_for("company.notices"), 303)
    return _page(form, f"reports-{app_id}", 422)


@bp.post("/notices/<int:app_id>/alerts/<int:alert_id>/reply")
@allow("company")
def reply_to_alert(app_id: int, alert_id: int) -> Any:
    form = ReplyForm()
    form.text.description = ALERT_HINT
    if form.validate_on_submit():
        uow = request_uow()
        try:
            replies.reply_to_alert(uow, _actor(), app_id, alert_id, form.text.data or "", utcnow())
        except Invalid:
            form.text.errors = [_("Write between %(a)s and %(b)s characters.", a=replies.MIN_REPLY, b=replies.MAX_REPLY)]
        else:
            uow.commit()
            flash(_("Your answer is on the record."), "success")
            return redirect(url_for("company.notices", _anchor=f"alert-{alert_id}-{app_id}"), 303)
    return _page(form, f"alert-{alert_id}-{app_id}", 422)
