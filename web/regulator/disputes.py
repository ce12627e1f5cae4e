"""Disputes of the check page's answers, for the regulator to decide: what was disputed, the
person's reasons and (only here) how to reach them, what the reports say, and the decision."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tierwatch.monitoring.public import disputes
from tierwatch.monitoring.public.checking import Recognised, facts, show_phone
from tierwatch.monitoring.public.schemas import DecisionIn
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.public.forms import DecisionForm
from tierwatch.web.regulator.blueprint import bp
from tierwatch.web.validation import validate

DECIDERS = disputes.DECIDERS


@bp.get("/disputes")
@allow(*DECIDERS)
def dispute_list() -> Any:
    actor = current_actor()
    assert actor is not None
    return render_template("regulator/disputes.html", items=disputes.list_open(request_uow(), actor))


@bp.route("/disputes/<int:dispute_id>", methods=["GET", "POST"])
@allow(*DECIDERS)
def dispute_detail(dispute_id: int) -> Any:
    actor = current_actor()
    assert actor is not None
    uow = request_uow()
    item = disputes.get(uow, actor, dispute_id)
    form = DecisionForm().setup()
    if item.status == disputes.OPEN and form.validate_on_submit():
        decided = disputes.decide(uow, actor, dispute_id, validate(DecisionIn, {
            "decision": form.decision.data, "note": form.note.data}))
        uow.commit()
        flash(_("Decided: %(n)s dispute(s) of this identifier closed.", n=len(decided)), "success")
        return redirect(url_for("regulator.dispute_list"), 303)
    shown = show_phone(item.value) if item.kind == "phone" else item.value
    # The regulator sees the figures whatever their size: the minimum protects the public page.
    known = facts(container_of(current_app).search, Recognised(item.kind, item.value, (f"{item.kind}:{item.value}",), shown))
    return render_template("regulator/dispute.html", item=item, contact=disputes.contact_of(uow, item), shown=shown,
                           facts=known, form=form), \
        422 if form.errors else 200
