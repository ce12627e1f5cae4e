"""A citizen's report, by its tracking code: received, analysed, linked with other reports,
warnings it fed; and what to do next. The code is the key: whoever holds it may read this page,
which therefore shows nothing of the report's words or of the reporter."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tierwatch.monitoring.public.status import report_status
from tierwatch.web.auth import ANYONE, allow, request_uow
from tierwatch.web.context import container_of
from tierwatch.web.jsonio import TrackingCodeConverter
from tierwatch.web.public.blueprint import bp


@bp.get("/status")
@allow(ANYONE)
def status_lookup() -> Any:
    """A box for the tracking code (a plain GET form: it changes nothing)."""
    raw = (request.args.get("code") or "").strip().upper().replace(" ", "")
    if raw and not raw.startswith("TW-"):
        raw = "TW-" + raw.removeprefix("TW")
    if raw and re.fullmatch(TrackingCodeConverter.regex, raw):
        return redirect(url_for("public.status", tracking_code=raw), 303)
    error = _("A tracking code looks like TW-ABCDE23456.") if raw else None
    return render_template("public/status_lookup.html", code=request.args.get("code", ""), error=error), \
        422 if error else 200


@bp.get("/status/<tracking:tracking_code>")
@allow(ANYONE)
def status(tracking_code: str) -> Any:
    container = container_of(current_app)
    found = report_status(request_uow(), container.search, tracking_code,
                          minimum=container.settings.public_min_reporters)
    just_sent = request.args.get("sent") == "1"
    if found is None and not just_sent:
        return render_template("public/status.html", code=tracking_code, status=None, just_sent=False), 404
    return render_template("public/status.html", code=tracking_code, status=found, just_sent=just_sent)
