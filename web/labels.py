"""Words people read for the codes the domain uses (roles, workflow statuses, ...), translated.
Templates use the ``label`` filter: ``{{ app.status|label("status") }}``. A code without an
entry shows as itself, so a new code is visible (and a test of the page catches it)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, Any]] = {
    "role": {
        "company": _l("Company user"),
        "regulator": _l("Regulator"),
        "analyst": _l("Analyst"),
        "admin": _l("Administrator"),
        "partner": _l("Partner feed"),
    },
    "status": {  # registry.workflow.STATUSES
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "under_review": _l("Under review"),
        "approved": _l("Approved"),
        "returned": _l("Returned for changes"),
        "rejected": _l("Rejected"),
        "superseded": _l("Superseded"),
        "deregistered": _l("Deregistered"),
    },
}


def label(code: str | None, vocabulary: str) -> str:
    if code is None:
        return ""
    return str(LABELS[vocabulary].get(code, code))


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
