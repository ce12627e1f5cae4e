"""The regulator console's dashboards: filings per status, tiers by domain and by area, filings
over time by status, the applications most named in scam reports this month, incidents by type
and severity. The figures come from monitoring.dashboards; each chart has its table."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from tierwatch.core.clock import utcnow
from tierwatch.monitoring import dashboards
from tierwatch.registry import service, workflow
from tierwatch.registry.regions import area_label
from tierwatch.risk import service as tiering
from tierwatch.risk.ruleset import TIER_ORDER
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.caching import DASHBOARD_SECONDS, remembered
from tierwatch.web.charts import Chart, chart
from tierwatch.web.i18n import current_language
from tierwatch.web.labels import label
from tierwatch.web.regulator.blueprint import bp


def _tier_chart(title: str, category_label: str, table: dict[str, dict[str, int]], names: dict[str, str]) -> Chart | None:
    if not table:
        return None
    categories = sorted(table, key=lambda k: -sum(table[k].values()))[:15]
    tiers = [t for t in TIER_ORDER if any(t in row for row in table.values())]
    return chart("stacked_bar", title, category_label, [names.get(c, c) or _("unknown") for c in categories],
                 {label(t, "tier"): [table[c].get(t, 0) for c in categories] for t in tiers}, width=560)


@bp.get("/")
@allow("regulator", "admin")
def home() -> str:
    actor = current_actor()
    assert actor is not None
    uow = request_uow()
    now = utcnow()
    counts = service.count_by_status(uow, actor)
    by_status = chart("horizontal_bar", _("Applications by status"), _("Status"),
                      [label(s, "status") for s in counts], {_("Applications"): list(counts.values())})
    active = [v.jurisdiction for v in tiering.active_versions(uow)]
    jurisdiction = request.args.get("jurisdiction") if request.args.get("jurisdiction") in active else (active[0] if active else None)
    charts = []
    if jurisdiction:
        regime = label(jurisdiction, "jurisdiction")
        by_domain = remembered(f"tiers_by_domain:{jurisdiction}", lambda: dashboards.tiers_by_domain(uow, actor, jurisdiction))
        charts.append(_tier_chart(_("Tiers by domain (%(regime)s)", regime=regime), _("Domain"), by_domain,
                                  {d: label(d, "domain") for d in by_domain}))
        by_area = remembered(f"tiers_by_area:{jurisdiction}", lambda: dashboards.tiers_by_area(uow, actor, jurisdiction))
        charts.append(_tier_chart(_("Tiers by city or province (%(regime)s)", regime=regime), _("Area"), by_area,
                                  {a: area_label(a, current_language()) for a in by_area}))
    months, filed = remembered("filings_by_month", lambda: dashboards.filings_by_month(uow, actor, now))
    statuses = [s for s in workflow.STATUSES if any(s in filed[m] for m in months)]
    if statuses:
        charts.append(chart("stacked_bar", _("Applications filed per month, by status now"), _("Month"), months,
                            {label(s, "status"): [filed[m].get(s, 0) for m in months] for s in statuses}, width=560,
                            rotate_labels=45))
    top = remembered("most_reported", lambda: dashboards.most_reported(uow, actor, now))
    if top:
        charts.append(chart("horizontal_bar", _("Applications named in the most scam reports this month"),
                            _("Application"), [t.name for t in top], {_("Scam reports"): [t.count for t in top]},
                            width=560))
    incidents = remembered("incidents_by_type", lambda: dashboards.incidents_by_type(uow, actor, now))
    if incidents:
        severities = ["low", "medium", "high", "critical"]
        types = sorted(incidents)
        charts.append(chart("stacked_bar", _("Incident reports of the last 12 months by type and severity"), _("Type"),
                            [label(t, "incident_type") for t in types],
                            {label(s, "severity"): [incidents[t].get(s, 0) for t in types] for s in severities
                             if any(s in incidents[t] for t in types)}, width=560))
    return render_template("regulator/home.html", by_status=by_status, total=sum(counts.values()), seconds=DASHBOARD_SECONDS,
                           charts=[c for c in charts if c is not None],
                           active=active, jurisdiction=jurisdiction, top=top)
