"""The regulator console's landing page: filings per status (issue 12 fills the console)."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from tierwatch.registry import service
from tierwatch.web.auth import allow, current_actor, request_uow
from tierwatch.web.charts import chart
from tierwatch.web.labels import label
from tierwatch.web.regulator.blueprint import bp


@bp.get("/")
@allow("regulator", "admin")
def home() -> str:
    actor = current_actor()
    assert actor is not None
    counts = service.count_by_status(request_uow(), actor)
    by_status = chart("horizontal_bar", _("Applications by status"), _("Status"),
                      [label(s, "status") for s in counts], {_("Applications"): list(counts.values())})
    return render_template("regulator/home.html", by_status=by_status, total=sum(counts.values()))
