"""Check a number, link or account, and dispute what the page says about one.

The answer comes from monitoring.public.lookup; the index's part is cached per process for a few
seconds per identifier (``CHECK_CACHE_SECONDS``), so a number everyone is checking costs the
index one look-up per period, while a new report shows within seconds.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tierwatch.core.cache import TtlCache
from tierwatch.core.errors import Invalid
from tierwatch.monitoring.public import disputes, lookup
from tierwatch.monitoring.public.checking import Facts, Recognised, facts, recognise
from tierwatch.monitoring.public.schemas import DisputeIn
from tierwatch.web.auth import ANYONE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.limits import rate_limit
from tierwatch.web.public.blueprint import bp
from tierwatch.web.public.forms import DisputeForm
from tierwatch.web.reporters import address_pseudonym
from tierwatch.web.validation import validate

MAX_QUERY = 300


def facts_cache() -> TtlCache[Facts]:
    cache = current_app.extensions.get("tierwatch_check_cache")
    if cache is None:
        seconds = float(current_app.config.get("CHECK_CACHE_SECONDS", 10))
        cache = current_app.extensions["tierwatch_check_cache"] = TtlCache(seconds, max_entries=10_000)
    return cache


def check_answer(text: str) -> lookup.CheckAnswer | None:
    container = container_of(current_app)
    cache = facts_cache()

    def cached_facts(recognised: Recognised) -> Facts:
        return cache.get(recognised.key, lambda: facts(container.search, recognised))

    return lookup.check(request_uow(), container.search, text, minimum=container.settings.public_min_reporters,
                        facts_of=cached_facts)


@bp.get("/check")
@allow(ANYONE)
def check() -> Any:
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    answer = check_answer(q) if q else None
    status = 422 if q and answer is None else 200
    return render_template("public/check.html", q=q, answer=answer,
                           minimum=container_of(current_app).settings.public_min_reporters), status


@bp.route("/check/dispute", methods=["GET", "POST"])
@allow(ANYONE)
@rate_limit("PUBLIC_FORM_LIMIT", methods=["POST"])
def dispute() -> Any:
    form = DisputeForm().setup()
    if request.method == "GET":
        form.identifier.data = (request.args.get("q") or "").strip()[:MAX_QUERY]
    recognised = recognise(form.identifier.data or "")
    if recognised is None:
        return redirect(url_for("public.check"), 303)
    if request.method == "POST" and form.validate_on_submit():
        try:
            data = validate(DisputeIn, form.dispute_data())
            uow = request_uow()
            disputes.open_dispute(uow, data, address_pseudonym())
            uow.commit()
        except Invalid as exc:
            form.pin_errors(exc.errors)
        else:
            flash(_("Thank you. It is now shown as disputed until the regulator has reviewed it."), "success")
            return redirect(url_for("public.check", q=form.identifier.data), 303)
    status = 422 if form.errors else 200
    return render_template("public/dispute.html", form=form, recognised=recognised), status
