"""The public register of approved AI applications: search by name, provider or filing number;
each entry with its provider, filing number, date, domain, tier under each regime and the public
part of its obligations (risk.register)."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext

from tierwatch.risk import register
from tierwatch.web.auth import ANYONE, allow, request_uow
from tierwatch.web.pagination import Page, offset, page_number
from tierwatch.web.public.blueprint import bp

PAGE_SIZE = 20
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


@bp.get("/registry")
@allow(ANYONE)
def registry() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    number = page_number()
    apps, total = register.search(request_uow(), q, limit=PAGE_SIZE, offset=offset(number, PAGE_SIZE))
    return render_template("public/registry.html", q=q, page=Page(apps, number, PAGE_SIZE, total))


@bp.get("/registry/<int:app_id>")
@allow(ANYONE)
def registry_entry(app_id: int) -> Any:
    return render_template("public/registry_entry.html", app=register.get(request_uow(), app_id))


def duration(value: str | None) -> str:
    """An ISO 8601 duration of the rule files as words: P3M -> "3 months", PT24H -> "24 hours"."""
    m = _DURATION.match(value or "")
    if not m:
        return value or ""
    units = (
        lambda n: ngettext("%(num)s year", "%(num)s years", n),
        lambda n: ngettext("%(num)s month", "%(num)s months", n),
        lambda n: ngettext("%(num)s week", "%(num)s weeks", n),
        lambda n: ngettext("%(num)s day", "%(num)s days", n),
        lambda n: ngettext("%(num)s hour", "%(num)s hours", n),
        lambda n: ngettext("%(num)s minute", "%(num)s minutes", n),
    )
    parts = [unit(int(n)) for unit, n in zip(units, m.groups()) if n]
    return " ".join(parts)


def obligation_terms(item: dict[str, Any]) -> str:
    """"every year" / "every 3 months" / "within 24 hours" / "" for an obligation."""
    if item.get("every"):
        single = {"P1Y": _("every year"), "P1M": _("every month"), "P1W": _("every week"), "P1D": _("every day")}
        return single.get(item["every"]) or _("every %(span)s", span=duration(item["every"]))
    if item.get("within"):
        return _("within %(span)s", span=duration(item["within"]))
    return ""


@bp.record_once
def _filters(state: Any) -> None:
    state.app.add_template_filter(obligation_terms, "obligation_terms")
