"""The analyst console's landing page (the labelling queue and alerts come with their issues)."""

from __future__ import annotations

from flask import render_template

from tierwatch.web.analyst.blueprint import bp
from tierwatch.web.auth import allow


@bp.get("/")
@allow("analyst", "admin")
def home() -> str:
    return render_template("analyst/home.html")
