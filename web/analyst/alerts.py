"""The alert queue: a search box and filters (state, severity, rule, rule group, assignee,
overdue), sort, counts per state, pages, and bulk actions on the ticked alerts. Keyboard shortcuts (j/k/a/e/r) come from
static/console.js and drive the same bulk form, so everything works without JavaScript too."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tierwatch.core.actors import Actor
from tierwatch.core.db import UnitOfWork
from tierwatch.core.errors import Invalid
from tierwatch.monitoring.alerts import console, service, triage
from tierwatch.monitoring.alerts.models import STATES
from tierwatch.monitoring.alerts.notify import Notifier
from tierwatch.monitoring.alerts.text_search import MAX_QUERY, alert_ids_matching
from tierwatch.web.analyst.blueprint import bp
from tierwatch.web.analyst.forms import BulkForm
from tierwatch.web.analyst.text import in_language
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.i18n import same_site_path
from tierwatch.web.pagination import Page, offset, page_number

TRIAGERS = service.TRIAGERS
PAGE_SIZE = 50
SEVERITIES = ("critical", "high", "medium", "low")
SORT_TEXT = {"-opened_at": _l("Newest first"), "opened_at": _l("Oldest first"), "-severity": _l("Most severe first"),
             "-report_count": _l("Most reports first"), "-last_match_at": _l("Latest match first"),
             "-updated_at": _l("Recently changed first")}
ALL = "all"  # the state filter's "every state"; none given: the states an analyst works on


def actor() -> Actor:
    who = current_actor()
    assert who is not None  # @allow let a signed-in user through
    return who


def notifier() -> Notifier:
    return Notifier(container_of(current_app).settings.alerts.base_url)


def _choice(name: str, allowed: Any) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


def queue_filter(uow: UnitOfWork, me: Actor) -> tuple[service.AlertFilter, dict[str, str]]:
    """The query string as a filter; a value that is not one of the choices is ignored (as on
    the regulator's queue). Also returns the filter as the form shows it. The search box is
    the JSON API's ``q``: the same alerts index, the same ways of finding."""
    args = request.args
    q = " ".join((args.get("q") or "").split())[:MAX_QUERY]
    ids = alert_ids_matching(uow, me, container_of(current_app).search, q) if q else None
    state = _choice("state", (*STATES, ALL))
    states = triage.WORKING if state is None else () if state == ALL else (state,)
    assignee = args.get("assignee", "")
    assignee_id = me.user_id if assignee == "me" else int(assignee) if (
        assignee.isascii() and assignee.isdigit() and len(assignee) < 10) else None
    overdue = {"yes": True, "no": False}.get(args.get("overdue", ""))
    rule = (args.get("rule") or "").strip()[:80] or None
    group = (args.get("group") or "").strip()[:60] or None
    sort = _choice("sort", SORT_TEXT) or "-opened_at"
    f = service.AlertFilter(states=states, severities=tuple(s for s in [_choice("severity", SEVERITIES)] if s),
                            rule_id=rule, group=group, assignee_id=assignee_id, overdue=overdue, ids=ids,
                            sort=sort)
    shown = {"q": q, "state": state or "", "severity": _choice("severity", SEVERITIES) or "", "rule": rule or "",
             "group": group or "", "assignee": assignee if assignee_id is not None else "",
             "overdue": args.get("overdue", "") if overdue is not None else "", "sort": sort}
    return f, shown


@bp.get("/alerts")
@allow(*TRIAGERS)
def alerts() -> str:
    me = actor()
    uow = request_uow()
    f, shown = queue_filter(uow, me)
    number = page_number()
    rows, total = service.list_alerts(uow, me, f, PAGE_SIZE, offset(number, PAGE_SIZE))
    staff = console.staff(uow, me)
    rules = container_of(current_app).alert_rules.rules()
    args = {k: v for k, v in shown.items() if v and not (k == "sort" and v == "-opened_at")}
    return render_template(
        "analyst/alerts.html", rows=rows, page=Page(rows, number, PAGE_SIZE, total), total=total, shown=shown,
        args=args, counts=console.state_counts(uow, me, f), states=STATES, working=triage.WORKING,
        severities=SEVERITIES, sorts=SORT_TEXT, rules=sorted({r.id for r in rules} | ({f.rule_id} if f.rule_id else set())),
        groups=sorted({r.group for r in rules} | ({f.group} if f.group else set())),
        staff=staff, names={u.id: u.name for u in staff}, bulk=BulkForm().setup(staff),
        back=request.full_path.rstrip("?"), in_language=in_language, max_query=MAX_QUERY)


@bp.post("/alerts/bulk")
@allow(*TRIAGERS)
def bulk_alerts() -> Any:
    me = actor()
    uow = request_uow()
    form = BulkForm().setup(console.staff(uow, me))
    back = same_site_path(form.back.data) if (form.back.data or "").startswith(url_for("analyst.alerts")) \
        else url_for("analyst.alerts")
    if not form.validate_on_submit():
        flash(_("The form had expired or was incomplete: nothing was done. Try again."), "error")
        return redirect(back, 303)
    ids, action = form.alert_ids(), form.action.data or ""
    text = (form.comment.data or "").strip() or None
    raw = form.assignee_id.data or ""
    wanted = service.Action(
        action, comment=text if action != "false_positive" else None,
        reason=text if action == "false_positive" else None,
        assignee_id=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None,
        unassign=action == "assign" and raw == "")
    try:
        result = service.bulk(uow, me, ids, wanted, notifier())
    except Invalid as exc:
        uow.rollback()
        flash(bulk_problem(exc), "error")
        return redirect(back, 303)
    uow.commit()
    if result.done:
        flash(_("Done for %(n)s alerts: %(ids)s.", n=len(result.done), ids=", ".join(f"#{i}" for i in result.done)),
              "success")
    if result.refused:
        flash(_("Not done for %(ids)s: the step is not open in their state.",
                ids=", ".join(f"#{i}" for i in result.refused)), "error")
    return redirect(back, 303)


def bulk_problem(exc: Invalid) -> str:
    fields = {e["field"] for e in exc.errors}
    if "ids" in fields:
        return _("Tick at least one alert (at most 500).")
    if "comment" in fields:
        return _("Write the comment.")
    if "reason" in fields:
        return _("Give the reason in the comment box.")
    if "assignee_id" in fields:
        return _("Choose an active analyst, regulator or administrator.")
    return _("Choose one of the bulk actions.")
