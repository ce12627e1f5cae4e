"""Scam trends: charts and tables from the search index (monitoring.public.trends).

Cost: the aggregations run at most once per ``public_cache_seconds`` (60 s by default) in each
web process, whatever the traffic — a TtlCache keyed by the query, where the first visitor after
expiry recomputes and the others wait for that answer. The charts are drawn once per language
per computed result.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template
from babel.dates import format_skeleton
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from tierwatch.core.cache import TtlCache
from tierwatch.core.clock import utcnow
from tierwatch.monitoring.public.trends import OTHER, Trends, compute
from tierwatch.web.auth import ANYONE, allow
from tierwatch.web.charts import Chart, chart
from tierwatch.web.context import container_of
from tierwatch.web.i18n import current_language
from tierwatch.web.labels import label
from tierwatch.web.public.blueprint import bp


def _caches(app: Flask) -> tuple[TtlCache[Trends], TtlCache[dict[str, Chart]]]:
    found = app.extensions.get("tierwatch_trends")
    if found is None:
        seconds = container_of(app).settings.public_cache_seconds
        found = app.extensions["tierwatch_trends"] = (TtlCache(seconds, 4), TtlCache(seconds, 8))
    return found


def current_trends(app: Flask) -> Trends:
    container = container_of(app)
    data, _charts = _caches(app)
    return data.get("trends", lambda: compute(container.search, utcnow(), container.settings.timezone))


@bp.get("/trends")
@allow(ANYONE)
def trends() -> Any:
    found = current_trends(current_app)
    _data, charts = _caches(current_app)
    drawn = charts.get((current_language(), found.computed_at), lambda: _charts(found))
    rising_rows = [[label(r.scam_type, "scam_type"), format_decimal(r.this_period), format_decimal(r.previous_period),
                    percent(r.change)] for r in found.rising]
    return render_template("public/trends.html", trends=found, charts=drawn, rising_rows=rising_rows,
                           cache_seconds=int(container_of(current_app).settings.public_cache_seconds))


def _charts(t: Trends) -> dict[str, Chart]:
    locale = get_locale()
    weeks = [format_skeleton("MMMd", w, locale=locale) for w in t.weeks]  # "9月21日" / "Sep 21"
    week = _("Week from")
    out = {
        "per_week": chart("line", _("Reports per week"), week, weeks, {_("Reports"): t.per_week}),
    }
    if t.per_week_by_type:
        out["by_type"] = chart("stacked_bar", _("Reports per week by scam type"), week, weeks,
                               {label(code, "scam_type"): counts for code, counts in t.per_week_by_type.items()},
                               height=360)
    for key, title, rows, vocabulary in (
        ("by_channel", _("How people were contacted"), t.by_channel, "channel"),
        ("by_technique", _("AI techniques reported"), t.by_technique, "ai_technique"),
        ("by_city", _("Reports by city"), t.by_city, "city"),
    ):
        if any(n for _, n in rows):
            names = [_("Other") if code == OTHER and vocabulary == "city" else label(code, vocabulary)
                     for code, _n in rows]
            out[key] = chart("horizontal_bar", title, _("Category"), names, {_("Reports"): [n for _, n in rows]},
                             height=max(200, 32 * len(rows) + 80))
    if t.money_per_week is not None:
        out["money"] = chart("bar", _("Money lost per week (yuan)"), week, weeks,
                             {_("Yuan"): [round(v) for v in t.money_per_week]})
    return out


def percent(value: float | None) -> str:
    return _("new") if value is None else "+" + format_decimal(value * 100, "#,##0") + "%"

